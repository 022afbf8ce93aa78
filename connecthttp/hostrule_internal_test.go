package connecthttp

import "testing"

// TestHostRule pins the host rule every package of connect shares (internal/syntax) on the
// return URLs of WithRedirects and the origin of WithPopup: lowercase LDH labels, no punycode
// label, and of the IP literals only the loopback addresses.
func TestHostRule(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"app.example.com", true},
		{"127.0.0.1:8080", true},
		{"[::1]:8080", true},
		{"xn--80ak6aa92e.com", false},
		{"app.xn--p1ai", false},
		{"App.example.com", false},
		{"10.0.0.1", false},
		{"127.1", false},
		{"[::2]", false},
		{"app.example.com:0", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if err := checkReturnURL("https://" + tt.host + "/done"); (err == nil) != tt.want {
				t.Errorf("return URL: error %v, want accepted = %t", err, tt.want)
			}
			if err := checkOrigin("https://" + tt.host); (err == nil) != tt.want {
				t.Errorf("origin: error %v, want accepted = %t", err, tt.want)
			}
		})
	}
}
