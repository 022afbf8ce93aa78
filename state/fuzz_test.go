package state_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/connectkit/connect/state"
)

func FuzzCheckToken(f *testing.F) {
	valid := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	for _, seed := range []string{
		"",
		valid,
		valid[:42],
		valid + "A",
		valid[:42] + "B", // non-canonical trailing bits
		valid[:42] + "=",
		"+" + valid[1:],
		"/" + valid[1:],
		valid[:10] + "\x00" + valid[11:],
		valid[:10] + "\r\n" + valid[12:],
		valid[:10] + "\n" + valid[10:], // 44 bytes, 43 of them base64url
		strings.Repeat("A", 129),
		strings.Repeat("_", 42) + "w",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := state.CheckToken(s)
		raw, decErr := base64.RawURLEncoding.Strict().DecodeString(s)
		want := decErr == nil && len(raw) == 32 && len(s) == 43
		if got := err == nil; got != want {
			t.Fatalf("CheckToken(%q) = %v, want accepted=%v", s, err, want)
		}
		if err == nil {
			return
		}
		if !errors.Is(err, state.ErrInvalidToken) {
			t.Errorf("CheckToken(%q) = %v, want an error matching ErrInvalidToken", s, err)
		}
		if len(s) >= 16 && strings.Contains(err.Error(), s) {
			t.Errorf("CheckToken(%q) error %q contains the input", s, err)
		}
	})
}
