package pkce_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/connectkit/connect/pkce"
)

// newVerifierPattern is what every verifier from NewVerifier looks like.
var newVerifierPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestMethod(t *testing.T) {
	if got, want := pkce.Method, "S256"; got != want {
		t.Errorf("Method = %q, want %q", got, want)
	}
}

func TestChallenge(t *testing.T) {
	tests := []struct {
		name     string
		verifier string
		want     string
	}{
		{
			name:     "RFC 7636 Appendix B",
			verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
			want:     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		},
		{
			// SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855.
			name:     "empty input, known SHA-256",
			verifier: "",
			want:     "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
		},
		{
			name:     "128 characters",
			verifier: strings.Repeat("a~._-Z09", 16),
			want:     independentChallenge(strings.Repeat("a~._-Z09", 16)),
		},
		{
			name:     "129 characters, not a valid verifier but still hashed",
			verifier: strings.Repeat("x", 129),
			want:     independentChallenge(strings.Repeat("x", 129)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pkce.Challenge(tc.verifier); got != tc.want {
				t.Errorf("Challenge(%q) = %q, want %q", tc.verifier, got, tc.want)
			}
		})
	}
}

// independentChallenge computes an S256 challenge the long way, with the
// standard library only.
func independentChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.URLEncoding.WithPadding(base64.NoPadding).EncodeToString(sum[:])
}

func TestNewVerifier(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	for i := range n {
		v, err := pkce.NewVerifier()
		if err != nil {
			t.Fatalf("NewVerifier() #%d: error %v, want nil", i, err)
		}
		if len(v) != 43 {
			t.Fatalf("NewVerifier() #%d: length %d, want 43", i, len(v))
		}
		if !newVerifierPattern.MatchString(v) {
			t.Fatalf("NewVerifier() #%d = %q, want a match of %v", i, v, newVerifierPattern)
		}
		if err := pkce.CheckVerifier(v); err != nil {
			t.Fatalf("CheckVerifier(NewVerifier() #%d) = %v, want nil", i, err)
		}
		if seen[v] {
			t.Fatalf("NewVerifier() #%d = %q, a repeat", i, v)
		}
		seen[v] = true
	}
}

func TestNewVerifierFrom(t *testing.T) {
	var counting [32]byte
	for i := range counting {
		counting[i] = byte(i)
	}
	countingVerifier := base64.RawURLEncoding.EncodeToString(counting[:])

	tests := []struct {
		name    string
		r       io.Reader
		want    string // "" means: any valid verifier
		wantErr bool
	}{
		{name: "nil means crypto/rand", r: nil},
		{name: "crypto/rand", r: rand.Reader},
		{name: "exact bytes", r: bytes.NewReader(counting[:]), want: countingVerifier},
		{name: "longer source reads only 32 bytes", r: bytes.NewReader(append(counting[:], 0xff, 0xff)), want: countingVerifier},
		{name: "one byte per read", r: iotest.OneByteReader(bytes.NewReader(counting[:])), want: countingVerifier},
		{name: "failing reader", r: iotest.ErrReader(errors.New("entropy exhausted")), wantErr: true},
		{name: "empty reader", r: bytes.NewReader(nil), wantErr: true},
		{name: "short reader, 31 bytes", r: bytes.NewReader(counting[:31]), wantErr: true},
		{name: "fails after 16 bytes", r: io.MultiReader(bytes.NewReader(counting[:16]), iotest.ErrReader(errors.New("boom"))), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pkce.NewVerifierFrom(tc.r)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("NewVerifierFrom() = %q, nil; want an error", got)
				}
				if got != "" {
					t.Errorf("NewVerifierFrom() verifier = %q with error, want \"\"", got)
				}
				if !strings.HasPrefix(err.Error(), "pkce: ") {
					t.Errorf("error %q does not start with \"pkce: \"", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewVerifierFrom() error = %v, want nil", err)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("NewVerifierFrom() = %q, want %q", got, tc.want)
			}
			if !newVerifierPattern.MatchString(got) {
				t.Errorf("NewVerifierFrom() = %q, want a match of %v", got, newVerifierPattern)
			}
		})
	}
}

func TestCheckVerifier(t *testing.T) {
	valid43 := strings.Repeat("a", 43)
	tests := []struct {
		name string
		v    string
		ok   bool
	}{
		{name: "empty", v: ""},
		{name: "42 characters", v: strings.Repeat("a", 42)},
		{name: "exactly 43 characters", v: valid43, ok: true},
		{name: "exactly 128 characters", v: strings.Repeat("A9-._~zZ", 16), ok: true},
		{name: "129 characters", v: strings.Repeat("a", 129)},
		{name: "10 KB", v: strings.Repeat("a", 10<<10)},
		{name: "RFC 7636 Appendix B verifier", v: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ok: true},
		{name: "all unreserved punctuation", v: strings.Repeat("-._~", 11), ok: true},
		{name: "plus", v: valid43[:20] + "+" + valid43[:22]},
		{name: "slash", v: valid43[:20] + "/" + valid43[:22]},
		{name: "equals padding", v: valid43[:42] + "="},
		{name: "space", v: " " + valid43[:42]},
		{name: "e acute", v: valid43[:41] + "é"}, // 43 bytes, 42 characters
		{name: "e acute, 43 characters", v: valid43[:42] + "é"},
		{name: "percent-encoded", v: valid43[:40] + "%41"},
		{name: "NUL", v: valid43[:42] + "\x00"},
		{name: "CRLF", v: valid43[:41] + "\r\n"},
		{name: "invalid UTF-8", v: valid43[:42] + "\xff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pkce.CheckVerifier(tc.v)
			if tc.ok {
				if err != nil {
					t.Errorf("CheckVerifier() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckVerifier() = nil, want an error")
			}
			if !errors.Is(err, pkce.ErrInvalidVerifier) {
				t.Errorf("CheckVerifier() = %v, want an error matching ErrInvalidVerifier", err)
			}
			if !strings.HasPrefix(err.Error(), "pkce: ") {
				t.Errorf("error %q does not start with \"pkce: \"", err)
			}
		})
	}
}

// TestCheckVerifierDoesNotEchoValue checks that a rejected verifier, which
// may still be a secret, never appears in the error.
func TestCheckVerifierDoesNotEchoValue(t *testing.T) {
	const secret = "SECRETverifierSECRET"
	tests := []struct {
		name string
		v    string
	}{
		{name: "too short", v: secret},
		{name: "too long", v: strings.Repeat(secret, 7)},
		{name: "bad character", v: secret + "+" + secret + "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pkce.CheckVerifier(tc.v)
			if err == nil {
				t.Fatalf("CheckVerifier() = nil, want an error")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("CheckVerifier() error %q contains the verifier", err)
			}
		})
	}
}

func BenchmarkNewVerifier(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pkce.NewVerifier(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChallenge(b *testing.B) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	b.ReportAllocs()
	for b.Loop() {
		pkce.Challenge(verifier)
	}
}

func BenchmarkCheckVerifier(b *testing.B) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	b.ReportAllocs()
	for b.Loop() {
		if err := pkce.CheckVerifier(verifier); err != nil {
			b.Fatal(err)
		}
	}
}
