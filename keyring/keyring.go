// Package keyring encrypts stored credentials at rest with AES-256-GCM under
// a set of named keys, so that the sealing key can be rotated without
// downtime.
//
// A [Keyring] seals with its primary key and opens with any key it holds.
// Every sealed value names the key that sealed it, so after a new key
// becomes primary the old values still open; [Keyring.NeedsRotation] finds
// them, a re-encrypt job opens and re-seals them, and the old key is removed
// only when none is left. A value whose key has been removed fails with
// [ErrUnknownKey]; there is no plaintext fallback.
//
// Each value is bound to additional authenticated data (aad) given by the
// caller, such as tenant|owner|provider|connection_id|field, so a value
// copied into another row or field does not open there. The aad should be
// an unambiguous encoding of those fields: with a separator that cannot
// occur inside a field, or with each field length-prefixed.
//
// A sealed value is laid out as:
//
//	version (1 byte, = 1) | len(key id) (1 byte) | key id | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// The GCM additional data is version | len(key id) | key id | aad, so a value
// cannot be re-labelled with another key id or format version.
//
// Nonces are 96 random bits drawn afresh for every seal. NIST SP 800-38D
// limits random-nonce GCM to 2^32 seals under one key; rotate the primary key
// well before that.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/connectkit/connect/internal/syntax"
)

const (
	// version is the format version byte of every sealed value.
	version = 1
	// keySize is the length of an AES-256 key.
	keySize = 32
	// maxIDLen is the longest key id; it must fit the length byte.
	maxIDLen = 32
	// nonceSize is the GCM nonce length: 96 bits.
	nonceSize = 12
	// tagSize is the GCM tag length.
	tagSize = 16
	// minSealedLen is the shortest well-formed sealed value: a one-character
	// key id and an empty plaintext.
	minSealedLen = 2 + 1 + nonceSize + tagSize
)

// Keyring holds AES-256-GCM keys by key id; it seals with the primary key
// and opens with any key it holds.
//
// A Keyring is safe for concurrent use and immutable after [New]. It keeps
// the ciphers made from the keys, not the key bytes, and it prints (with
// fmt, at any verb) only its key ids. The zero Keyring holds no keys: it
// refuses to seal and opens nothing.
type Keyring struct {
	primary string
	seal    cipher.AEAD            // aeads[primary]
	aeads   map[string]cipher.AEAD // by key id; never written after New
	ids     []string               // sorted key ids, for printing
	rand    io.Reader              // nonce source; nil means crypto/rand
}

// New returns a keyring whose keys are 32-byte AES-256 keys by id; primary
// names the key used to seal.
//
// Key ids are 1-32 characters of [A-Za-z0-9._-]. New returns an error if
// there are no keys, if primary is not among them, if a key is not 32 bytes
// or if an id is malformed; the error names no key bytes, and names an id
// only if the id is well-formed.
//
// New does not keep keys or any of their slices; the caller may zero them
// once New returns.
func New(primary string, keys map[string][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("keyring: no keys")
	}
	ids := slices.Sorted(maps.Keys(keys))
	aeads := make(map[string]cipher.AEAD, len(keys))
	for _, id := range ids {
		if !validID(id) {
			return nil, fmt.Errorf("keyring: a key id of %d bytes is not 1-%d characters of [A-Za-z0-9._-]", len(id), maxIDLen)
		}
		key := keys[id]
		if len(key) != keySize {
			return nil, fmt.Errorf("keyring: key %q is %d bytes, want %d", id, len(key), keySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: cannot make AES cipher", id)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: cannot make GCM cipher", id)
		}
		aeads[id] = aead
	}
	if !validID(primary) {
		return nil, fmt.Errorf("keyring: primary key id of %d bytes is not 1-%d characters of [A-Za-z0-9._-]", len(primary), maxIDLen)
	}
	seal, ok := aeads[primary]
	if !ok {
		return nil, fmt.Errorf("keyring: primary key %q is not among the keys", primary)
	}
	return &Keyring{primary: primary, seal: seal, aeads: aeads, ids: ids}, nil
}

// WithRand returns a copy of k that draws nonces from r, for tests; nil
// means crypto/rand. Seal fails if r fails or runs short; it never falls
// back to another source. If the copy is used from several goroutines, r
// must be safe for concurrent use. k itself is unchanged.
func (k *Keyring) WithRand(r io.Reader) *Keyring {
	if k == nil {
		return nil
	}
	c := *k
	c.rand = r
	if r == rand.Reader {
		c.rand = nil
	}
	return &c
}

// Primary returns the id of the sealing key.
func (k *Keyring) Primary() string {
	if k == nil {
		return ""
	}
	return k.primary
}

// Seal encrypts plaintext with the primary key and a fresh random 96-bit
// nonce, binding it to aad (additional authenticated data, e.g. the
// connection's identity). The result carries a format version byte and the
// key id, so [Keyring.Open] can find the key after rotation.
//
// Seal fails, and returns no value, if the random source fails or if k
// holds no keys (the zero or nil Keyring): it never stores plaintext.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	if k == nil || k.seal == nil {
		return nil, fmt.Errorf("keyring: no sealing key; make the Keyring with New")
	}
	hlen := 2 + len(k.primary)
	out := make([]byte, hlen+nonceSize, hlen+nonceSize+len(plaintext)+tagSize)
	out[0] = version
	out[1] = byte(len(k.primary))
	copy(out[2:], k.primary)
	nonce := out[hlen:]
	if k.rand == nil {
		// crypto/rand.Read never returns an error; it crashes the program
		// if the system source fails.
		_, _ = rand.Read(nonce)
	} else if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("keyring: reading random nonce: %w", err)
	}
	return k.seal.Seal(out, nonce, plaintext, additionalData(out[:hlen], aad)), nil
}

// Open decrypts a sealed value with the key named in it; the same aad must
// be given as to [Keyring.Seal].
//
// A value sealed under another aad, a flipped bit, a truncated value or an
// unknown format gives an error matching [ErrDecrypt]; a key id the keyring
// does not hold gives [ErrUnknownKey]. On error Open returns nil, never
// partial plaintext. An empty plaintext opens as a non-nil empty slice.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	id, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	var aead cipher.AEAD
	if k != nil {
		aead = k.aeads[string(id)]
	}
	if aead == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	hlen := 2 + len(id)
	nonce := sealed[hlen : hlen+nonceSize]
	plaintext, err := aead.Open(nil, nonce, sealed[hlen+nonceSize:], additionalData(sealed[:hlen], aad))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrDecrypt)
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	return plaintext, nil
}

// KeyID returns the id of the key a sealed value was sealed with, without
// decrypting it. A value that is not well-formed gives an error matching
// [ErrDecrypt]. A well-formed id is no proof that the value is authentic;
// only [Keyring.Open] checks that.
func KeyID(sealed []byte) (string, error) {
	id, err := parse(sealed)
	if err != nil {
		return "", err
	}
	return string(id), nil
}

// NeedsRotation reports whether sealed was sealed with a key other than the
// primary. It also reports true for a value it cannot parse, so that a
// re-encrypt job tries to open it and reports the error instead of skipping
// it. Like [KeyID], it does not decrypt.
func (k *Keyring) NeedsRotation(sealed []byte) bool {
	id, err := parse(sealed)
	return err != nil || string(id) != k.Primary()
}

// parse checks the framing of a sealed value and returns its key id, a
// subslice of sealed. It does not check the ciphertext.
func parse(sealed []byte) ([]byte, error) {
	if len(sealed) < minSealedLen {
		return nil, fmt.Errorf("%w: value too short", ErrDecrypt)
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrDecrypt, sealed[0])
	}
	n := int(sealed[1])
	if n < 1 || n > maxIDLen {
		return nil, fmt.Errorf("%w: malformed key id", ErrDecrypt)
	}
	if len(sealed) < 2+n+nonceSize+tagSize {
		return nil, fmt.Errorf("%w: value too short", ErrDecrypt)
	}
	id := sealed[2 : 2+n]
	if !validID(string(id)) {
		return nil, fmt.Errorf("%w: malformed key id", ErrDecrypt)
	}
	return id, nil
}

// additionalData returns the GCM additional data: the header (version,
// key id length and key id) followed by the caller's aad.
func additionalData(header, aad []byte) []byte {
	if len(aad) == 0 {
		return header
	}
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}

// validID reports whether id is 1-32 characters of [A-Za-z0-9._-].
func validID(id string) bool { return len(id) <= maxIDLen && syntax.ID(id) }
