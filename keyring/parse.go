package keyring

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// ParseKeys parses a key list of the form "id1:base64key1,id2:base64key2",
// the first key being the primary: the form a backend keeps in one
// environment variable or secret. Keys are 32 bytes in standard or URL
// base64, with or without padding. Spaces and newlines around the list, its
// entries, ids and keys are ignored. ParseKeys returns [New](first id, keys).
//
// A malformed list (an empty entry, a missing colon, bad base64, a key not
// 32 bytes, a bad or duplicate id) gives an error that names the entry by
// position and never contains key text. ParseKeys zeroes the decoded key
// bytes before it returns.
func ParseKeys(s string) (*Keyring, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("keyring: no keys")
	}
	keys := make(map[string][]byte)
	defer func() {
		for _, key := range keys {
			clear(key)
		}
	}()
	primary := ""
	pos := 0
	for entry := range strings.SplitSeq(s, ",") {
		pos++
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("keyring: entry %d is empty", pos)
		}
		id, enc, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("keyring: entry %d has no colon; want id:base64key", pos)
		}
		id, enc = strings.TrimSpace(id), strings.TrimSpace(enc)
		if !validID(id) {
			return nil, fmt.Errorf("keyring: entry %d: key id is not 1-%d characters of [A-Za-z0-9._-]", pos, maxIDLen)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("keyring: entry %d: key id %q appears more than once", pos, id)
		}
		key, err := decodeKey(enc)
		if err != nil {
			return nil, fmt.Errorf("keyring: entry %d: key %q: %w", pos, id, err)
		}
		keys[id] = key
		if pos == 1 {
			primary = id
		}
	}
	return New(primary, keys)
}

// decodeKey decodes a 32-byte key in standard or URL base64, with or
// without padding. Its errors do not contain enc.
func decodeKey(enc string) ([]byte, error) {
	if enc == "" {
		return nil, fmt.Errorf("key is empty")
	}
	for _, e := range [...]*base64.Encoding{
		base64.StdEncoding,
		base64.RawStdEncoding,
		base64.URLEncoding,
		base64.RawURLEncoding,
	} {
		key, err := e.DecodeString(enc)
		if err != nil {
			clear(key)
			continue
		}
		if len(key) != keySize {
			clear(key)
			return nil, fmt.Errorf("decodes to %d bytes, want %d", len(key), keySize)
		}
		return key, nil
	}
	return nil, fmt.Errorf("not standard or URL base64")
}
