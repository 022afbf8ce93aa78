package keyring_test

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/connectkit/connect/keyring"
)

// exampleKeys stands in for a secret such as CONNECT_KEYS that a real
// backend reads from its environment or secret manager; never put keys in
// source code.
func exampleKeys(ids ...string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += id + ":" + base64.StdEncoding.EncodeToString(testKey(id))
	}
	return s
}

func Example() {
	kr, err := keyring.ParseKeys(exampleKeys("2026-01"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The aad names where the value is stored, so it opens only there.
	aad := []byte("tenant-1|user-42|github|conn-7|access_token")
	sealed, err := kr.Seal([]byte("gho_example_token"), aad)
	if err != nil {
		fmt.Println(err)
		return
	}
	id, _ := keyring.KeyID(sealed)
	plaintext, err := kr.Open(sealed, aad)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("key id:", id)
	fmt.Println("plaintext:", string(plaintext))

	_, err = kr.Open(sealed, []byte("tenant-1|user-43|github|conn-8|access_token"))
	fmt.Println("in another row:", errors.Is(err, keyring.ErrDecrypt))
	// Output:
	// key id: 2026-01
	// plaintext: gho_example_token
	// in another row: true
}

// A rotation: make the new key primary while keeping the old one, re-seal
// what NeedsRotation reports, then drop the old key.
func Example_rotation() {
	aad := []byte("tenant-1|user-42|github|conn-7|refresh_token")
	before, _ := keyring.ParseKeys(exampleKeys("2026-01"))
	stored, _ := before.Seal([]byte("refresh-token"), aad)

	during, _ := keyring.ParseKeys(exampleKeys("2026-07", "2026-01"))
	if during.NeedsRotation(stored) {
		plaintext, err := during.Open(stored, aad)
		if err != nil {
			fmt.Println(err)
			return
		}
		resealed, err := during.Seal(plaintext, aad)
		if err != nil {
			fmt.Println(err)
			return
		}
		old := stored
		stored = resealed

		after, _ := keyring.ParseKeys(exampleKeys("2026-07"))
		_, err = after.Open(old, aad)
		fmt.Println("old value after removing 2026-01:", errors.Is(err, keyring.ErrUnknownKey))
	}
	id, _ := keyring.KeyID(stored)
	fmt.Println("stored under:", id)
	// Output:
	// old value after removing 2026-01: true
	// stored under: 2026-07
}
