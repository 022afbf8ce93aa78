package keyring_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/connectkit/connect/keyring"
)

// The sizes of a sealed value's AES-GCM nonce and tag.
const (
	nonceSize = 12
	tagSize   = 16
)

// testKey returns a fixed 32-byte key for id, different for every id.
func testKey(id string) []byte {
	sum := sha256.Sum256([]byte("keyring test key " + id))
	return sum[:]
}

// newKeyring returns a keyring holding testKey(id) for each id, sealing
// with primary.
func newKeyring(t testing.TB, primary string, ids ...string) *keyring.Keyring {
	t.Helper()
	keys := make(map[string][]byte, len(ids))
	for _, id := range ids {
		keys[id] = testKey(id)
	}
	k, err := keyring.New(primary, keys)
	if err != nil {
		t.Fatalf("New(%q, %v): %v", primary, ids, err)
	}
	return k
}

// seal seals plaintext under aad and fails the test on error.
func seal(t testing.TB, k *keyring.Keyring, plaintext, aad string) []byte {
	t.Helper()
	sealed, err := k.Seal([]byte(plaintext), []byte(aad))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return sealed
}

// rowAAD is the aad docs/security.md, I1 asks for: key id, tenant, owner,
// provider, connection id and field. (The key id is bound by the format
// itself as well.)
func rowAAD(conn, field string) []byte {
	return []byte("k1|tenant-1|owner-1|github|" + conn + "|" + field)
}

// validLookingID reports whether id would be a valid key id (which errors
// may name).
func validLookingID(id string) bool {
	k, err := keyring.New(id, map[string][]byte{id: testKey(id)})
	return err == nil && k != nil
}

// assertNoKey fails if s shows key raw, in hex or in any base64 form.
func assertNoKey(t *testing.T, s string, key []byte) {
	t.Helper()
	if len(key) == 0 {
		return
	}
	forms := map[string]string{
		"raw":           string(key),
		"hex":           hex.EncodeToString(key),
		"HEX":           strings.ToUpper(hex.EncodeToString(key)),
		"base64":        base64.RawStdEncoding.EncodeToString(key),
		"base64url":     base64.RawURLEncoding.EncodeToString(key),
		"byte list %v":  strings.Trim(fmt.Sprint(key), "[]"),
		"byte list %#v": strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", key), "[]byte{"), "}"),
	}
	for name, form := range forms {
		// Any 8-character window gives the key away in part.
		for i := 0; i+8 <= len(form); i++ {
			if strings.Contains(s, form[i:i+8]) {
				t.Errorf("%q shows key bytes (%s form)", s, name)
				break
			}
		}
	}
}
