package pkce_test

import (
	"errors"
	"fmt"

	"github.com/connectkit/connect/pkce"
)

func Example() {
	// Real code makes a fresh verifier per authorization request with
	// pkce.NewVerifier and keeps it server-side; this is RFC 7636 Appendix B.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

	// These two go into the authorization URL; the verifier goes only into
	// the token request.
	fmt.Println("code_challenge_method:", pkce.Method)
	fmt.Println("code_challenge:", pkce.Challenge(verifier))
	// Output:
	// code_challenge_method: S256
	// code_challenge: E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
}

func ExampleNewVerifier() {
	verifier, err := pkce.NewVerifier()
	if err != nil {
		// Fail the request; never fall back to a weaker source.
		fmt.Println(err)
		return
	}
	fmt.Println(len(verifier), pkce.CheckVerifier(verifier))
	// Output:
	// 43 <nil>
}

func ExampleCheckVerifier() {
	err := pkce.CheckVerifier("too-short")
	fmt.Println(errors.Is(err, pkce.ErrInvalidVerifier))
	fmt.Println(err)
	// Output:
	// true
	// pkce: invalid code verifier: length 9, want 43 to 128
}
