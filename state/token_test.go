package state_test

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

	"github.com/connectkit/connect/state"
)

// tokenPattern is what every token from NewToken looks like.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestNewTokenFromCryptoRand(t *testing.T) {
	const n = 100000
	seen := make(map[string]bool, n)
	for i := range n {
		tok, err := state.NewToken(nil)
		if err != nil {
			t.Fatalf("NewToken(nil) #%d: error %v, want nil", i, err)
		}
		if !tokenPattern.MatchString(tok) {
			t.Fatalf("NewToken(nil) #%d = %q, want a match of %v", i, tok, tokenPattern)
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("NewToken(nil) #%d = %q decodes to %d bytes, %v; want 32 bytes, nil", i, tok, len(raw), err)
		}
		if err := state.CheckToken(tok); err != nil {
			t.Fatalf("CheckToken(NewToken(nil) #%d) = %v, want nil", i, err)
		}
		if seen[tok] {
			t.Fatalf("NewToken(nil) #%d = %q, a repeat", i, tok)
		}
		seen[tok] = true
	}
}

func TestNewToken(t *testing.T) {
	var counting [32]byte
	for i := range counting {
		counting[i] = byte(i)
	}
	countingToken := base64.RawURLEncoding.EncodeToString(counting[:])

	tests := []struct {
		name    string
		r       io.Reader
		want    string // "" means: any valid token
		wantErr bool
	}{
		{name: "nil means crypto/rand", r: nil},
		{name: "crypto/rand", r: rand.Reader},
		{name: "exact bytes", r: bytes.NewReader(counting[:]), want: countingToken},
		{name: "longer source reads only 32 bytes", r: bytes.NewReader(append(counting[:], 1, 2, 3)), want: countingToken},
		{name: "one byte per read", r: iotest.OneByteReader(bytes.NewReader(counting[:])), want: countingToken},
		{name: "failing reader", r: iotest.ErrReader(errors.New("entropy exhausted")), wantErr: true},
		{name: "empty reader", r: bytes.NewReader(nil), wantErr: true},
		{name: "short reader, 31 bytes", r: bytes.NewReader(counting[:31]), wantErr: true},
		{name: "fails after 16 bytes", r: io.MultiReader(bytes.NewReader(counting[:16]), iotest.ErrReader(errors.New("boom"))), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := state.NewToken(tc.r)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("NewToken() = %q, nil; want an error", got)
				}
				if got != "" {
					t.Errorf("NewToken() token = %q with error, want \"\"", got)
				}
				if !strings.HasPrefix(err.Error(), "state: ") {
					t.Errorf("error %q does not start with \"state: \"", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewToken() error = %v, want nil", err)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("NewToken() = %q, want %q", got, tc.want)
			}
			if err := state.CheckToken(got); err != nil {
				t.Errorf("CheckToken(NewToken()) = %v, want nil", err)
			}
		})
	}
}

func TestCheckToken(t *testing.T) {
	valid := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // last char 'k' = 36, low bits 00
	tests := []struct {
		name string
		s    string
		ok   bool
	}{
		{name: "valid", s: valid, ok: true},
		{name: "all zero bytes", s: strings.Repeat("A", 43), ok: true},
		{name: "all one bits", s: strings.Repeat("_", 42) + "w", ok: true},
		{name: "empty", s: ""},
		{name: "42 characters", s: valid[:42]},
		{name: "44 characters", s: valid + "A"},
		{name: "129 characters", s: strings.Repeat("A", 129)},
		{name: "10 KB", s: strings.Repeat("A", 10<<10)},
		{name: "plus", s: "+" + valid[1:]},
		{name: "slash", s: valid[:20] + "/" + valid[21:]},
		{name: "padding equals", s: valid[:42] + "="},
		{name: "padded 44 characters", s: valid + "="},
		{name: "NUL", s: valid[:10] + "\x00" + valid[11:]},
		{name: "CRLF", s: valid[:10] + "\r\n" + valid[12:]},
		{name: "space", s: valid[:42] + " "},
		{name: "percent", s: valid[:40] + "%41"},
		{name: "non-ASCII", s: valid[:41] + "é"},
		{name: "non-canonical trailing bits B", s: valid[:42] + "B"},
		{name: "non-canonical trailing bits l", s: valid[:42] + "l"},
		{name: "non-canonical trailing bits _", s: valid[:42] + "_"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := state.CheckToken(tc.s)
			raw, decErr := base64.RawURLEncoding.Strict().DecodeString(tc.s)
			if oracle := decErr == nil && len(raw) == 32 && len(tc.s) == 43; oracle != tc.ok {
				t.Fatalf("test case disagrees with RawURLEncoding.Strict(): accepts=%v", oracle)
			}
			if tc.ok {
				if err != nil {
					t.Errorf("CheckToken() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckToken() = nil, want an error")
			}
			if !errors.Is(err, state.ErrInvalidToken) {
				t.Errorf("CheckToken() = %v, want an error matching ErrInvalidToken", err)
			}
			if !strings.HasPrefix(err.Error(), "state: ") {
				t.Errorf("error %q does not start with \"state: \"", err)
			}
			if len(tc.s) >= 8 && strings.Contains(err.Error(), tc.s) {
				t.Errorf("CheckToken() error %q contains the input", err)
			}
		})
	}
}

func TestCheckTokenDoesNotEchoValue(t *testing.T) {
	const secret = "SECRETtokenSECRET"
	tests := []struct {
		name string
		s    string
	}{
		{name: "too short", s: secret},
		{name: "too long", s: strings.Repeat(secret, 3)},
		{name: "way too long", s: strings.Repeat(secret, 100)},
		{name: "bad character", s: secret + "+" + secret + "AAAAAAAA"},
		{name: "non-canonical", s: secret + secret + "AAAAAAAB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := state.CheckToken(tc.s)
			if err == nil {
				t.Fatalf("CheckToken() = nil, want an error")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("CheckToken() error %q contains the token", err)
			}
		})
	}
}

func TestKey(t *testing.T) {
	// independentKey computes a key the long way, with the standard library only.
	independentKey := func(token string) string {
		h := sha256.New()
		h.Write([]byte(token))
		return "s256:" + base64.URLEncoding.WithPadding(base64.NoPadding).EncodeToString(h.Sum(nil))
	}
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{
			// SHA-256("") = e3b0c442 98fc1c14 ... 7852b855.
			name:  "empty, known SHA-256",
			token: "",
			want:  "s256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
		},
		{
			name:  "token",
			token: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
			want:  independentKey("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
		},
		{
			name:  "128 bytes",
			token: strings.Repeat("abcd", 32),
			want:  independentKey(strings.Repeat("abcd", 32)),
		},
		{
			name:  "10 KB",
			token: strings.Repeat("x", 10<<10),
			want:  independentKey(strings.Repeat("x", 10<<10)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := state.Key(tc.token)
			if got != tc.want {
				t.Errorf("Key() = %q, want %q", got, tc.want)
			}
			if len(got) != 48 {
				t.Errorf("len(Key()) = %d, want 48", len(got))
			}
		})
	}
}

func TestKeyHidesToken(t *testing.T) {
	const n = 1000
	keys := make(map[string]string, n)
	for range n {
		tok, err := state.NewToken(nil)
		if err != nil {
			t.Fatalf("NewToken(nil): %v", err)
		}
		key := state.Key(tok)
		if strings.Contains(key, tok) {
			t.Fatalf("Key(%q) = %q contains the token", tok, key)
		}
		if other, dup := keys[key]; dup {
			t.Fatalf("Key(%q) = Key(%q) = %q", tok, other, key)
		}
		keys[key] = tok
		if got := state.Key(tok); got != key {
			t.Fatalf("Key(%q) = %q, then %q; want the same", tok, key, got)
		}
	}
	// Tokens one character apart.
	a, b := strings.Repeat("A", 43), strings.Repeat("A", 42)+"E"
	if state.Key(a) == state.Key(b) {
		t.Errorf("Key(%q) == Key(%q), want different keys", a, b)
	}
}

func BenchmarkNewToken(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := state.NewToken(nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckToken(b *testing.B) {
	const tok = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	b.ReportAllocs()
	for b.Loop() {
		if err := state.CheckToken(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKey(b *testing.B) {
	const tok = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	b.ReportAllocs()
	for b.Loop() {
		state.Key(tok)
	}
}
