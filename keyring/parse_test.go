package keyring_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/connectkit/connect/keyring"
)

func TestParseKeys(t *testing.T) {
	k1, k2, k3 := testKey("k1"), testKey("k2"), testKey("k3")
	std := base64.StdEncoding.EncodeToString
	rawStd := base64.RawStdEncoding.EncodeToString
	url := base64.URLEncoding.EncodeToString
	rawURL := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name        string
		s           string
		wantPrimary string
		wantIDs     []string
	}{
		{name: "one key, standard padded", s: "k1:" + std(k1), wantPrimary: "k1", wantIDs: []string{"k1"}},
		{name: "one key, standard raw", s: "k1:" + rawStd(k1), wantPrimary: "k1", wantIDs: []string{"k1"}},
		{name: "one key, URL padded", s: "k1:" + url(k1), wantPrimary: "k1", wantIDs: []string{"k1"}},
		{name: "one key, URL raw", s: "k1:" + rawURL(k1), wantPrimary: "k1", wantIDs: []string{"k1"}},
		{name: "first is primary", s: "k2:" + std(k2) + ",k1:" + rawURL(k1), wantPrimary: "k2", wantIDs: []string{"k1", "k2"}},
		{name: "three keys, mixed forms", s: "k3:" + rawStd(k3) + ",k1:" + url(k1) + ",k2:" + std(k2), wantPrimary: "k3", wantIDs: []string{"k1", "k2", "k3"}},
		{name: "spaces and trailing newline", s: " k2 : " + std(k2) + " ,\tk1:" + std(k1) + "\n", wantPrimary: "k2", wantIDs: []string{"k1", "k2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keyring.ParseKeys(tc.s)
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if got := k.Primary(); got != tc.wantPrimary {
				t.Errorf("Primary() = %q, want %q", got, tc.wantPrimary)
			}
			// Every listed key opens what the same key sealed via New.
			for _, id := range tc.wantIDs {
				other := newKeyring(t, id, id)
				got, err := k.Open(seal(t, other, "p-"+id, "aad"), []byte("aad"))
				if err != nil || string(got) != "p-"+id {
					t.Errorf("Open(value sealed by %s) = %q, %v; want %q, nil", id, got, err, "p-"+id)
				}
			}
			want := fmt.Sprintf("keyring{primary=%s ids=[%s]}", tc.wantPrimary, strings.Join(tc.wantIDs, " "))
			if got := fmt.Sprint(k); got != want {
				t.Errorf("fmt.Sprint(k) = %q, want %q", got, want)
			}
		})
	}
}

func TestParseKeysErrors(t *testing.T) {
	key := testKey("k1")
	enc := base64.StdEncoding.EncodeToString(key)
	short := base64.StdEncoding.EncodeToString(key[:31])
	long := base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 0))
	tests := []struct {
		name    string
		s       string
		wantErr string
	}{
		{name: "empty", s: "", wantErr: "no keys"},
		{name: "only spaces", s: " \n", wantErr: "no keys"},
		{name: "only comma", s: ",", wantErr: "entry 1 is empty"},
		{name: "trailing comma", s: "k1:" + enc + ",", wantErr: "entry 2 is empty"},
		{name: "missing colon", s: enc, wantErr: "no colon"},
		{name: "missing colon in second entry", s: "k1:" + enc + "," + enc, wantErr: "entry 2 has no colon"},
		{name: "missing id", s: ":" + enc, wantErr: "key id"},
		{name: "missing key", s: "k1:", wantErr: "key is empty"},
		{name: "reversed", s: enc + ":k1", wantErr: "key id"},
		{name: "bad base64", s: "k1:" + enc[:20] + "!!" + enc[22:], wantErr: "not standard or URL base64"},
		{name: "mixed alphabets", s: "k1:" + strings.Repeat("+_", 21) + "A=", wantErr: "not standard or URL base64"},
		{name: "hex key", s: "k1:" + hex.EncodeToString(key), wantErr: "48 bytes"},
		{name: "31-byte key", s: "k1:" + short, wantErr: "31 bytes"},
		{name: "33-byte key", s: "k1:" + long, wantErr: "33 bytes"},
		{name: "duplicate ids", s: "k1:" + enc + ",k1:" + enc, wantErr: "more than once"},
		{name: "bad id", s: "k/1:" + enc, wantErr: "key id"},
		{name: "33-character id", s: strings.Repeat("a", 33) + ":" + enc, wantErr: "key id"},
		{name: "second colon", s: "k1:" + enc + ":x", wantErr: "base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keyring.ParseKeys(tc.s)
			if err == nil {
				t.Fatalf("ParseKeys = %v, nil; want error containing %q", k, tc.wantErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "keyring: ") || !strings.Contains(msg, tc.wantErr) {
				t.Errorf("error = %q, want prefix %q and %q", msg, "keyring: ", tc.wantErr)
			}
			assertNoKey(t, msg, key)
			for _, form := range []string{enc, short, long} {
				for i := 0; i+8 <= len(form); i++ {
					if strings.Contains(msg, form[i:i+8]) {
						t.Errorf("error %q contains key text", msg)
						break
					}
				}
			}
		})
	}
}
