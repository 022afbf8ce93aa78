package pkce_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/connectkit/connect/pkce"
)

// verifierOracle is RFC 7636 §4.1's code_verifier grammar.
var verifierOracle = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

func FuzzCheckVerifier(f *testing.F) {
	for _, seed := range []string{
		"",
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		strings.Repeat("a", 42),
		strings.Repeat("a", 43),
		strings.Repeat("~", 128),
		strings.Repeat("a", 129),
		strings.Repeat("a", 42) + "+",
		strings.Repeat("a", 42) + "/",
		strings.Repeat("a", 42) + "=",
		strings.Repeat("a", 42) + " ",
		strings.Repeat("a", 41) + "é",
		strings.Repeat("a", 42) + "\x00",
		strings.Repeat("a", 42) + "\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := pkce.CheckVerifier(v)
		want := verifierOracle.MatchString(v)
		if got := err == nil; got != want {
			t.Fatalf("CheckVerifier(%q) = %v, want accepted=%v", v, err, want)
		}
		if err == nil {
			return
		}
		if !errors.Is(err, pkce.ErrInvalidVerifier) {
			t.Errorf("CheckVerifier(%q) = %v, want an error matching ErrInvalidVerifier", v, err)
		}
		if len(v) >= 16 && strings.Contains(err.Error(), v) {
			t.Errorf("CheckVerifier(%q) error %q contains the input", v, err)
		}
	})
}
