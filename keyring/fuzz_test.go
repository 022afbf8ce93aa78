package keyring_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/connectkit/connect/keyring"
)

// FuzzOpen checks that Open never panics or leaks plaintext on arbitrary
// input, that its errors are the documented ones, and that Open(Seal(p)) == p.
func FuzzOpen(f *testing.F) {
	k := newKeyring(f, "k2", "k1", "k2")
	valid := seal(f, k, "access-token", "aad")
	old := seal(f, newKeyring(f, "k1", "k1"), "", "aad")
	unknown := seal(f, newKeyring(f, "k9", "k9"), "x", "aad")
	for _, seed := range []struct{ sealed, plaintext, aad []byte }{
		{nil, nil, nil},
		{[]byte{1}, []byte("p"), []byte("aad")},
		{valid, []byte("access-token"), []byte("aad")},
		{valid[:len(valid)-1], nil, []byte("aad")},
		{old, []byte(""), []byte("aad")},
		{unknown, []byte("x"), []byte("aad")},
		{append([]byte{2}, valid[1:]...), nil, []byte("aad")},
		{append([]byte{1, 0}, valid[2:]...), nil, []byte("aad")},
		{append([]byte{1, 0xff}, valid[2:]...), nil, []byte("aad")},
		{valid, bytes.Repeat([]byte{0}, 1000), nil},
	} {
		f.Add(seed.sealed, seed.plaintext, seed.aad)
	}
	f.Fuzz(func(t *testing.T, sealed, plaintext, aad []byte) {
		// Arbitrary bytes: no panic, a documented error, no partial plaintext.
		got, err := k.Open(sealed, aad)
		id, idErr := keyring.KeyID(sealed)
		switch {
		case err == nil:
			if idErr != nil || (id != "k1" && id != "k2") {
				t.Fatalf("Open succeeded but KeyID = %q, %v", id, idErr)
			}
		case errors.Is(err, keyring.ErrUnknownKey):
			if got != nil || idErr != nil || id == "k1" || id == "k2" {
				t.Fatalf("Open = %q, %v; KeyID = %q, %v", got, err, id, idErr)
			}
		case errors.Is(err, keyring.ErrDecrypt):
			if got != nil {
				t.Fatalf("Open returned %q with error %v", got, err)
			}
		default:
			t.Fatalf("Open error %v matches neither ErrDecrypt nor ErrUnknownKey", err)
		}
		if idErr != nil && !k.NeedsRotation(sealed) {
			t.Fatalf("NeedsRotation(malformed) = false")
		}

		// Fuzzed plaintext and aad round-trip, and bind to aad.
		s, err := k.Seal(plaintext, aad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		got, err = k.Open(s, aad)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", plaintext, got, err)
		}
		if got, err := k.Open(s, append(bytes.Clone(aad), 0)); !errors.Is(err, keyring.ErrDecrypt) || got != nil {
			t.Fatalf("Open with another aad = %q, %v; want nil, ErrDecrypt", got, err)
		}
		if k.NeedsRotation(s) {
			t.Fatalf("NeedsRotation(Seal(p)) = true")
		}
	})
}
