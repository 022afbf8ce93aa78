package random

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, err := Token(nil, 32)
		if err != nil {
			t.Fatalf("Token(nil, 32) = %v", err)
		}
		if b, err := base64.RawURLEncoding.Strict().DecodeString(tok); err != nil || len(b) != 32 || len(tok) != 43 {
			t.Fatalf("Token(nil, 32) = %q: %d bytes, %v; want 43 characters of 32 bytes", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("Token(nil, 32) repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestTokenReadsTheReader(t *testing.T) {
	src := bytes.Repeat([]byte{0xfb}, 40)
	r := bytes.NewReader(src)
	tok, err := Token(r, 32)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(src[:32]); tok != want {
		t.Errorf("Token = %q, want %q", tok, want)
	}
	if r.Len() != 8 {
		t.Errorf("Token read %d bytes, want exactly 32", 40-r.Len())
	}
}

func TestTokenFailsWithoutRandomness(t *testing.T) {
	failing := errors.New("no entropy")
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"short", strings.NewReader(strings.Repeat("x", 31)), io.ErrUnexpectedEOF},
		{"empty", strings.NewReader(""), io.EOF},
		{"failing", iotestErr{failing}, failing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Token(tt.r, 32)
			if tok != "" || !errors.Is(err, tt.want) {
				t.Errorf("Token = %q, %v; want no token and %v", tok, err, tt.want)
			}
		})
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }
