package safefmt

import (
	"fmt"
	"strings"
	"testing"
)

// secret redacts itself under %v, as connect.Secret does.
type secret string

func (secret) String() string   { return "[redacted]" }
func (secret) GoString() string { return `"[redacted]"` }

// holder holds a secret behind a pointer: without Format, %s and %x print it raw.
type holder struct {
	ID    string
	Token *secret
}

func (h holder) Format(f fmt.State, verb rune) {
	type fields holder
	Format(f, verb, h, fields(h))
}

func TestFormat(t *testing.T) {
	tok := secret("SENTINEL_TOKEN")
	h := holder{ID: "conn-1", Token: &tok}
	tests := []struct {
		format string
		want   string
	}{
		{"%v", "{conn-1 [redacted]}"},
		{"%+v", "{ID:conn-1 Token:[redacted]}"},
		{"%#v", `safefmt.holder{ID:"conn-1", Token:"[redacted]"}`},
		{"%s", "{conn-1 [redacted]}"},
		{"%q", `"{conn-1 [redacted]}"`},
		{"%x", "{conn-1 [redacted]}"},
		{"%d", "{conn-1 [redacted]}"},
		{"%25v", "      {conn-1 [redacted]}"},
		{"%-25v|", "{conn-1 [redacted]}      |"},
		{"%5v", "{conn-1 [redacted]}"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			got := fmt.Sprintf(tt.format, h)
			if got != tt.want {
				t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
			}
			if strings.Contains(got, "SENTINEL") || strings.Contains(fmt.Sprintf(tt.format, &h), "SENTINEL") {
				t.Errorf("Sprintf(%q) printed the secret", tt.format)
			}
		})
	}
}
