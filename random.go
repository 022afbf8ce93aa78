package connect

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// secretBytes is how many random bytes each of a flow's secrets is made from: 256 bits, as
// state tokens (SECURITY.md item 1) and PKCE verifiers (RFC 7636 §7.1) want.
const secretBytes = 32

// flowSecrets are the random values of one authorization, each 43 characters of base64url:
// the state token, the PKCE verifier and its S256 challenge, and the browser binding, with
// the SHA-256 of the binding, which is all the session keeps of it. Those a flow does not use
// are empty.
type flowSecrets struct {
	state, verifier, challenge, binding string
	bindingHash                         [sha256.Size]byte
}

// newFlowSecrets makes a flow's secrets from one read of r, in the order state, verifier,
// binding, as [state.NewToken] and [pkce.NewVerifier] would make them one by one; a nil r
// means crypto/rand. If r fails or ends early there are no secrets and the error matches
// [ErrRandom]; nothing falls back to another source.
//
// The verifier and the challenge share one string: both die with the call that encodes them
// into the session and the URL, while the state token and the binding are handed out.
func newFlowSecrets(r io.Reader, verifier, binding bool) (flowSecrets, error) {
	var raw [3 * secretBytes]byte
	defer clear(raw[:])
	n := secretBytes
	if verifier {
		n += secretBytes
	}
	if binding {
		n += secretBytes
	}
	if err := readRandom(r, raw[:n]); err != nil {
		return flowSecrets{}, fmt.Errorf("%w: reading random bytes: %v", ErrRandom, err)
	}

	const encoded = 43 // base64.RawURLEncoding.EncodedLen(secretBytes)
	enc := base64.RawURLEncoding
	var fs flowSecrets
	var one [encoded]byte
	enc.Encode(one[:], raw[:secretBytes])
	fs.state = string(one[:])
	rest := raw[secretBytes:n]
	if verifier {
		var pair [2 * encoded]byte
		defer clear(pair[:])
		enc.Encode(pair[:encoded], rest[:secretBytes])
		sum := sha256.Sum256(pair[:encoded])
		enc.Encode(pair[encoded:], sum[:])
		both := string(pair[:])
		fs.verifier, fs.challenge = both[:encoded], both[encoded:]
		rest = rest[secretBytes:]
	}
	if binding {
		enc.Encode(one[:], rest[:secretBytes])
		fs.binding = string(one[:])
		fs.bindingHash = sha256.Sum256(one[:])
	}
	clear(one[:])
	return fs, nil
}

// readRandom fills b from r, or from crypto/rand when r is nil or crypto/rand's Reader. The
// caller's b stays on its stack: crypto/rand.Read keeps it there, and another reader, which
// might keep what it is handed, reads into a copy.
func readRandom(r io.Reader, b []byte) error {
	if r == nil || r == rand.Reader {
		_, err := rand.Read(b)
		return err
	}
	return readFrom(r, b)
}

// readFrom is io.ReadFull of a copy of b, so that b itself never reaches r.
func readFrom(r io.Reader, b []byte) error {
	tmp := make([]byte, len(b))
	if _, err := io.ReadFull(r, tmp); err != nil {
		return err
	}
	copy(b, tmp)
	clear(tmp)
	return nil
}
