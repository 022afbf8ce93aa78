package keyring_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect/keyring"
)

func TestRoundTrip(t *testing.T) {
	k := newKeyring(t, "k1", "k1", "k2")
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{name: "empty plaintext", plaintext: []byte{}, aad: rowAAD("c1", "access_token")},
		{name: "nil plaintext", plaintext: nil, aad: rowAAD("c1", "access_token")},
		{name: "access token", plaintext: []byte("gho_16C7e42F292c6912E7710c838347Ae178B4a"), aad: rowAAD("c1", "access_token")},
		{name: "nil aad", plaintext: []byte("api key"), aad: nil},
		{name: "binary plaintext", plaintext: []byte{0, 1, 2, 0xff, 0xfe}, aad: []byte{0}},
		{name: "64 KiB", plaintext: bytes.Repeat([]byte("x"), 64<<10), aad: rowAAD("c2", "refresh_token")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := k.Seal(tc.plaintext, tc.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got, want := len(sealed), 2+len("k1")+nonceSize+len(tc.plaintext)+tagSize; got != want {
				t.Errorf("len(sealed) = %d, want %d", got, want)
			}
			if len(tc.plaintext) > 0 && bytes.Contains(sealed, tc.plaintext) {
				t.Errorf("sealed value contains the plaintext")
			}
			got, err := k.Open(sealed, tc.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got == nil {
				t.Errorf("Open returned nil plaintext, want non-nil")
			}
			if diff := cmp.Diff(string(tc.plaintext), string(got)); diff != "" {
				t.Errorf("Open(Seal(p)) mismatch (-want +got):\n%s", diff)
			}
			id, err := keyring.KeyID(sealed)
			if err != nil || id != "k1" {
				t.Errorf("KeyID = %q, %v; want %q, nil", id, err, "k1")
			}
		})
	}
}

// TestFormat checks the documented layout and the additional data against
// an independent AES-256-GCM computation.
func TestFormat(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		plaintext string
		aad       string
	}{
		{name: "short id", id: "k1", plaintext: "secret", aad: "tenant|owner|conn|field"},
		{name: "32-character id, empty aad", id: strings.Repeat("a", 32), plaintext: "secret", aad: ""},
		{name: "empty plaintext", id: "2026-01._x", plaintext: "", aad: "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nonce := []byte("0123456789ab")
			k := newKeyring(t, tc.id, tc.id).WithRand(bytes.NewReader(nonce))
			got := seal(t, k, tc.plaintext, tc.aad)

			header := append([]byte{1, byte(len(tc.id))}, tc.id...)
			block, err := aes.NewCipher(testKey(tc.id))
			if err != nil {
				t.Fatal(err)
			}
			gcm, err := cipher.NewGCM(block)
			if err != nil {
				t.Fatal(err)
			}
			ad := append(append([]byte{}, header...), tc.aad...)
			want := gcm.Seal(append(append([]byte{}, header...), nonce...), nonce, []byte(tc.plaintext), ad)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sealed value mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSealFreshNonces(t *testing.T) {
	const n = 10000
	k := newKeyring(t, "k1", "k1")
	plaintext, aad := "the same token every time", string(rowAAD("c1", "access_token"))
	hlen := 2 + len("k1")
	nonces := make(map[string]bool, n)
	ciphertexts := make(map[string]bool, n)
	for i := range n {
		sealed := seal(t, k, plaintext, aad)
		nonce, ct := string(sealed[hlen:hlen+nonceSize]), string(sealed[hlen+nonceSize:])
		if nonces[nonce] {
			t.Fatalf("seal %d: nonce %x repeated", i, nonce)
		}
		if ciphertexts[ct] {
			t.Fatalf("seal %d: ciphertext repeated", i)
		}
		nonces[nonce], ciphertexts[ct] = true, true
	}
	if got := len(nonces); got != n {
		t.Errorf("distinct nonces = %d, want %d", got, n)
	}
	if got := len(ciphertexts); got != n {
		t.Errorf("distinct ciphertexts = %d, want %d", got, n)
	}
}

func TestOpenBitFlips(t *testing.T) {
	// k3 differs from k1 in one bit of its id ('1' ^ 0x02 == '3'), so some
	// flips re-label the value with a key the keyring does hold.
	k := newKeyring(t, "k1", "k1", "k3")
	const plaintext = "tok-123"
	aad := rowAAD("c1", "access_token")
	sealed := seal(t, k, plaintext, string(aad))
	idEnd := 2 + len("k1") // bytes [1, idEnd) are the id length and the id
	for i := range len(sealed) {
		for bit := range 8 {
			flipped := bytes.Clone(sealed)
			flipped[i] ^= 1 << bit
			got, err := k.Open(flipped, aad)
			if got != nil {
				t.Errorf("byte %d bit %d: Open returned plaintext %q, want nil", i, bit, got)
			}
			switch {
			case errors.Is(err, keyring.ErrDecrypt):
			case errors.Is(err, keyring.ErrUnknownKey) && 1 <= i && i < idEnd:
			default:
				t.Errorf("byte %d bit %d: Open error = %v, want ErrDecrypt (or ErrUnknownKey in the key id)", i, bit, err)
			}
			if err != nil && strings.Contains(err.Error(), plaintext) {
				t.Errorf("byte %d bit %d: error %q contains the plaintext", i, bit, err)
			}
		}
	}
}

// TestKeyIDIsAuthenticated re-labels a value with another id of the same
// key bytes: only the additional data can tell them apart.
func TestKeyIDIsAuthenticated(t *testing.T) {
	key := testKey("shared")
	k, err := keyring.New("a1", map[string][]byte{"a1": key, "b1": key})
	if err != nil {
		t.Fatal(err)
	}
	sealed := seal(t, k, "secret", "aad")
	relabelled := bytes.Clone(sealed)
	copy(relabelled[2:], "b1")
	got, err := k.Open(relabelled, []byte("aad"))
	if !errors.Is(err, keyring.ErrDecrypt) || got != nil {
		t.Errorf("Open(re-labelled) = %q, %v; want nil, ErrDecrypt", got, err)
	}

	// The version byte and id length are bound too: an unknown version never
	// reaches GCM, and a changed length changes the id.
	for _, v := range []byte{0, 2, 0xff} {
		bad := bytes.Clone(sealed)
		bad[0] = v
		if got, err := k.Open(bad, []byte("aad")); !errors.Is(err, keyring.ErrDecrypt) || got != nil {
			t.Errorf("version %d: Open = %q, %v; want nil, ErrDecrypt", v, got, err)
		}
	}
}

func TestOpenOtherRow(t *testing.T) {
	k := newKeyring(t, "k1", "k1")
	const tokenA = "token-of-row-A"
	sealedA := seal(t, k, tokenA, string(rowAAD("conn-A", "access_token")))
	tests := []struct {
		name string
		aad  []byte
	}{
		{name: "row B", aad: rowAAD("conn-B", "access_token")},
		{name: "same row, other field", aad: rowAAD("conn-A", "refresh_token")},
		{name: "other owner", aad: []byte("k1|tenant-1|owner-2|github|conn-A|access_token")},
		{name: "other tenant", aad: []byte("k1|tenant-2|owner-1|github|conn-A|access_token")},
		{name: "aad prefix", aad: rowAAD("conn-A", "access_toke")},
		{name: "aad extended", aad: append(rowAAD("conn-A", "access_token"), 0)},
		{name: "no aad", aad: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := k.Open(sealedA, tc.aad)
			if !errors.Is(err, keyring.ErrDecrypt) {
				t.Errorf("Open error = %v, want ErrDecrypt", err)
			}
			if got != nil {
				t.Errorf("Open returned %q, want nil", got)
			}
			if err != nil && strings.Contains(err.Error(), tokenA) {
				t.Errorf("error %q contains row A's token", err)
			}
		})
	}
}

func TestOpenTruncated(t *testing.T) {
	k := newKeyring(t, "k1", "k1")
	aad := []byte("aad")
	sealed := seal(t, k, "a short secret", string(aad))
	for n := range len(sealed) {
		got, err := k.Open(sealed[:n], aad)
		if !errors.Is(err, keyring.ErrDecrypt) || got != nil {
			t.Errorf("Open(sealed[:%d]) = %q, %v; want nil, ErrDecrypt", n, got, err)
		}
		// Cutting from the front must fail the same way.
		got, err = k.Open(sealed[len(sealed)-n:], aad)
		if !errors.Is(err, keyring.ErrDecrypt) || got != nil {
			t.Errorf("Open(sealed[%d:]) = %q, %v; want nil, ErrDecrypt", len(sealed)-n, got, err)
		}
	}
	if got, err := k.Open(append(bytes.Clone(sealed), 0), aad); !errors.Is(err, keyring.ErrDecrypt) || got != nil {
		t.Errorf("Open(sealed + 1 byte) = %q, %v; want nil, ErrDecrypt", got, err)
	}
}

func TestKeyID(t *testing.T) {
	k := newKeyring(t, "key.2026-01_a", "key.2026-01_a")
	sealed := seal(t, k, "x", "")
	tests := []struct {
		name    string
		sealed  []byte
		want    string
		wantErr bool
	}{
		{name: "sealed value", sealed: sealed, want: "key.2026-01_a"},
		{name: "nil", sealed: nil, wantErr: true},
		{name: "header only", sealed: sealed[:2+len("key.2026-01_a")], wantErr: true},
		{name: "one byte short", sealed: sealed[:2+len("key.2026-01_a")+nonceSize+tagSize-1], wantErr: true},
		{name: "version 2", sealed: append([]byte{2}, sealed[1:]...), wantErr: true},
		{name: "id length 0", sealed: append([]byte{1, 0}, sealed[2:]...), wantErr: true},
		{name: "id length 33", sealed: append([]byte{1, 33}, bytes.Repeat([]byte("a"), 33+nonceSize+tagSize)...), wantErr: true},
		{name: "id with colon", sealed: append([]byte{1, 3, 'a', ':', 'b'}, make([]byte, nonceSize+tagSize)...), wantErr: true},
		{name: "id with NUL", sealed: append([]byte{1, 2, 'a', 0}, make([]byte, nonceSize+tagSize)...), wantErr: true},
		{name: "unknown but well-formed id", sealed: append([]byte{1, 2, 'z', 'z'}, make([]byte, nonceSize+tagSize)...), want: "zz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keyring.KeyID(tc.sealed)
			if tc.wantErr {
				if !errors.Is(err, keyring.ErrDecrypt) || got != "" {
					t.Errorf("KeyID = %q, %v; want \"\", ErrDecrypt", got, err)
				}
				if !k.NeedsRotation(tc.sealed) {
					t.Errorf("NeedsRotation(malformed) = false, want true")
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("KeyID = %q, %v; want %q, nil", got, err, tc.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	aad := rowAAD("c1", "refresh_token")
	const plaintext = "rt-secret"

	old := newKeyring(t, "k1", "k1")
	sealed := seal(t, old, plaintext, string(aad))

	both := newKeyring(t, "k2", "k1", "k2")
	if got := both.Primary(); got != "k2" {
		t.Fatalf("Primary() = %q, want k2", got)
	}
	got, err := both.Open(sealed, aad)
	if err != nil || string(got) != plaintext {
		t.Fatalf("after k2 became primary, Open(old) = %q, %v; want %q, nil", got, err, plaintext)
	}
	if !both.NeedsRotation(sealed) {
		t.Errorf("NeedsRotation(sealed with k1) = false, want true")
	}

	resealed := seal(t, both, string(got), string(aad))
	if id, err := keyring.KeyID(resealed); err != nil || id != "k2" {
		t.Errorf("KeyID(resealed) = %q, %v; want k2, nil", id, err)
	}
	if both.NeedsRotation(resealed) {
		t.Errorf("NeedsRotation(resealed) = true, want false")
	}

	onlyNew := newKeyring(t, "k2", "k2")
	got, err = onlyNew.Open(sealed, aad)
	if !errors.Is(err, keyring.ErrUnknownKey) || got != nil {
		t.Errorf("after k1 was removed, Open(old) = %q, %v; want nil, ErrUnknownKey", got, err)
	}
	if errors.Is(err, keyring.ErrDecrypt) {
		t.Errorf("Open(old) error %v also matches ErrDecrypt, want only ErrUnknownKey", err)
	}
	got, err = onlyNew.Open(resealed, aad)
	if err != nil || string(got) != plaintext {
		t.Errorf("after k1 was removed, Open(resealed) = %q, %v; want %q, nil", got, err, plaintext)
	}
}

func TestNew(t *testing.T) {
	good := testKey("good")
	tests := []struct {
		name    string
		primary string
		keys    map[string][]byte
		wantErr string // substring; "" means success
	}{
		{name: "one key", primary: "k1", keys: map[string][]byte{"k1": good}},
		{name: "two keys", primary: "k2", keys: map[string][]byte{"k1": good, "k2": testKey("k2")}},
		{name: "32-character id", primary: strings.Repeat("Z", 32), keys: map[string][]byte{strings.Repeat("Z", 32): good}},
		{name: "all id characters", primary: "azAZ09._-", keys: map[string][]byte{"azAZ09._-": good}},
		{name: "nil keys", primary: "k1", keys: nil, wantErr: "no keys"},
		{name: "empty keys", primary: "k1", keys: map[string][]byte{}, wantErr: "no keys"},
		{name: "missing primary", primary: "k2", keys: map[string][]byte{"k1": good}, wantErr: "not among the keys"},
		{name: "empty primary", primary: "", keys: map[string][]byte{"k1": good}, wantErr: "primary key id"},
		{name: "31-byte key", primary: "k1", keys: map[string][]byte{"k1": good[:31]}, wantErr: "31 bytes"},
		{name: "33-byte key", primary: "k1", keys: map[string][]byte{"k1": append(bytes.Clone(good), 0)}, wantErr: "33 bytes"},
		{name: "nil key", primary: "k1", keys: map[string][]byte{"k1": nil}, wantErr: "0 bytes"},
		{name: "16-byte (AES-128) key", primary: "k1", keys: map[string][]byte{"k1": good[:16]}, wantErr: "16 bytes"},
		{name: "empty id", primary: "k1", keys: map[string][]byte{"k1": good, "": good}, wantErr: "key id"},
		{name: "id with colon", primary: "a:b", keys: map[string][]byte{"a:b": good}, wantErr: "key id"},
		{name: "33-character id", primary: "k1", keys: map[string][]byte{"k1": good, strings.Repeat("a", 33): good}, wantErr: "key id"},
		{name: "id with space", primary: "k 1", keys: map[string][]byte{"k 1": good}, wantErr: "key id"},
		{name: "id with comma", primary: "k,1", keys: map[string][]byte{"k,1": good}, wantErr: "key id"},
		{name: "non-ASCII id", primary: "ké", keys: map[string][]byte{"ké": good}, wantErr: "key id"},
		{name: "id that is a base64 key", primary: "k1", keys: map[string][]byte{"k1": good, base64.RawStdEncoding.EncodeToString(good): good}, wantErr: "key id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keyring.New(tc.primary, tc.keys)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if got := k.Primary(); got != tc.primary {
					t.Errorf("Primary() = %q, want %q", got, tc.primary)
				}
				return
			}
			if err == nil {
				t.Fatalf("New = %v, nil; want error containing %q", k, tc.wantErr)
			}
			if k != nil {
				t.Errorf("New returned a keyring with error %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "keyring: ") || !strings.Contains(msg, tc.wantErr) {
				t.Errorf("error = %q, want prefix %q and %q", msg, "keyring: ", tc.wantErr)
			}
			for id, key := range tc.keys {
				if !validLookingID(id) && id != "" && strings.Contains(msg, id) {
					t.Errorf("error %q contains the malformed id %q", msg, id)
				}
				assertNoKey(t, msg, key)
			}
		})
	}
}

func TestNewKeepsNoKeyBytes(t *testing.T) {
	key := testKey("k1")
	keys := map[string][]byte{"k1": key}
	k, err := keyring.New("k1", keys)
	if err != nil {
		t.Fatal(err)
	}
	before := seal(t, k, "secret", "aad")
	clear(key) // the caller zeroes its copy
	delete(keys, "k1")
	got, err := k.Open(before, []byte("aad"))
	if err != nil || string(got) != "secret" {
		t.Errorf("after zeroing the caller's key, Open = %q, %v; want %q, nil", got, err, "secret")
	}
	if id, _ := keyring.KeyID(seal(t, k, "x", "")); id != "k1" {
		t.Errorf("after deleting from the caller's map, KeyID(Seal) = %q, want k1", id)
	}
}

func TestWithRand(t *testing.T) {
	k := newKeyring(t, "k1", "k1")
	readErr := errors.New("entropy source down")
	tests := []struct {
		name string
		r    io.Reader
		want error // matched with errors.Is; nil means success
	}{
		{name: "failing reader", r: iotest.ErrReader(readErr), want: readErr},
		{name: "empty reader", r: bytes.NewReader(nil), want: io.EOF},
		{name: "short reader", r: bytes.NewReader(make([]byte, nonceSize-1)), want: io.ErrUnexpectedEOF},
		{name: "one byte at a time", r: iotest.OneByteReader(bytes.NewReader(make([]byte, nonceSize)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := k.WithRand(tc.r).Seal([]byte("secret"), nil)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Seal: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || got != nil {
				t.Errorf("Seal = %x, %v; want nil, error matching %v", got, err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "keyring: ") {
				t.Errorf("error %q lacks the %q prefix", err, "keyring: ")
			}
		})
	}

	// WithRand leaves k alone, and nil means crypto/rand.
	if _, err := k.Seal([]byte("x"), nil); err != nil {
		t.Errorf("original keyring after WithRand: Seal: %v", err)
	}
	if _, err := k.WithRand(iotest.ErrReader(readErr)).WithRand(nil).Seal([]byte("x"), nil); err != nil {
		t.Errorf("WithRand(nil): Seal: %v", err)
	}
}

func TestZeroKeyringFailsClosed(t *testing.T) {
	sealed := seal(t, newKeyring(t, "k1", "k1"), "secret", "")
	for name, k := range map[string]*keyring.Keyring{"zero": new(keyring.Keyring), "nil": nil} {
		t.Run(name, func(t *testing.T) {
			if got, err := k.Seal([]byte("secret"), nil); err == nil || got != nil {
				t.Errorf("Seal = %q, %v; want nil, error", got, err)
			}
			if got, err := k.Open(sealed, nil); !errors.Is(err, keyring.ErrUnknownKey) || got != nil {
				t.Errorf("Open = %q, %v; want nil, ErrUnknownKey", got, err)
			}
			if !k.NeedsRotation(sealed) {
				t.Errorf("NeedsRotation = false, want true")
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	k := newKeyring(t, "k2", "k1", "k2")
	old := seal(t, newKeyring(t, "k1", "k1"), "old", "aad")
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				p := fmt.Sprintf("g%d-%d", g, i)
				sealed, err := k.Seal([]byte(p), []byte("aad"))
				if err != nil {
					t.Errorf("Seal: %v", err)
					return
				}
				for _, c := range []struct {
					sealed []byte
					want   string
				}{{sealed, p}, {old, "old"}} {
					got, err := k.Open(c.sealed, []byte("aad"))
					if err != nil || string(got) != c.want {
						t.Errorf("Open = %q, %v; want %q, nil", got, err, c.want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkSealOpen512(b *testing.B) {
	k := newKeyring(b, "k1", "k1")
	plaintext := bytes.Repeat([]byte("p"), 512)
	aad := rowAAD("conn-1", "access_token")
	b.SetBytes(int64(len(plaintext)))
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := k.Seal(plaintext, aad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
