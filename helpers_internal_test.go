package connect

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The records in testdata/legacy were written by the binary encoders of versions 1 and 2,
// before the JSON records; legacySessionV2 and legacyCredentialsV2 are what they hold.
const (
	legacyVerifier = "SENTINEL_VERIFIER_legacy_8d2e4b0a1c6f9e3d7b5a2c8e0f4d6b1a3c5e7f9"
	legacyBinding  = "SENTINEL_BINDING_legacy_3f9c"
)

func legacySessionV2() *session {
	h := sha256.Sum256([]byte(legacyBinding))
	return &session{
		ProjectID: "proj", Provider: "legacy", GroupRef: "group-1", GroupName: "Group One",
		ConsumerRef: "user-1", ConsumerName: "User One", Workspace: "acme",
		Metadata: map[string]string{"accountId": "123456", "region": "eu"},
		AppID:    "legacy-app", RedirectURI: "https://app.example.com/callbacks/v1/oauth",
		TokenURL: "https://acme.auth.example.com/token", RefreshURL: "https://acme.auth.example.com/refresh",
		Scopes: []string{"read", "write", "offline_access"}, Verifier: legacyVerifier, BindingHash: h[:],
		CreatedAt: time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC),
		ExpiresAt: time.Date(2025, 6, 1, 12, 10, 0, 123456789, time.UTC),
	}
}

func legacySessionV1() *session {
	s := legacySessionV2()
	s.RefreshURL = ""
	return s
}

func legacyCredentialsV2() *credentials {
	return &credentials{
		AccessToken: "SENTINEL_ACCESS_legacy_5c1d", RefreshToken: "SENTINEL_REFRESH_legacy_9a7e", TokenType: "Bearer",
		Expiry: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC), ObtainedAt: time.Date(2025, 6, 1, 12, 0, 1, 0, time.UTC),
		APIKey: "SENTINEL_APIKEY_legacy_2b8f", Username: "alice", Password: "SENTINEL_PASSWORD_legacy_7e3a",
		Custom:   map[string]string{"apiToken": "SENTINEL_CUSTOM_legacy_4d6c", "subdomain": "acme"},
		ClientID: "machine-client", ClientSecret: "SENTINEL_SECRET_legacy_1f0b", Scopes: []string{"read", "write"},
		TokenURL: "https://acme.auth.example.com/token", RefreshURL: "https://acme.auth.example.com/refresh",
		LeaseOwner: "replica-1", LeaseUntil: time.Date(2025, 6, 1, 12, 0, 31, 500, time.UTC),
	}
}

func legacyCredentialsV1() *credentials {
	c := legacyCredentialsV2()
	c.LeaseOwner, c.LeaseUntil, c.RefreshURL = "", time.Time{}, ""
	return c
}

// readLegacy reads a record of testdata/legacy.
func readLegacy(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/legacy/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// legacyRoute sends every request to srv, whatever its URL: the legacy records name fixed
// token endpoints.
type legacyRoute struct{ srv *httptest.Server }

func (r legacyRoute) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = "http", r.srv.Listener.Addr().String(), ""
	return http.DefaultTransport.RoundTrip(req)
}

// fuzzRecord checks a decoder on any input: an error, or a value that the current format
// keeps whole (read back through decodeAny, the reader of every version). The seeds are
// added encoded.
func fuzzRecord[T any](f *testing.F, decode, decodeAny func([]byte) (*T, error), encode func(*T) ([]byte, error), seeds ...*T) {
	for _, v := range seeds {
		b, err := encode(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			return
		}
		enc, err := encode(v)
		if err != nil {
			// Only a legacy record of bytes that are not text may fail to encode.
			if checkUTF8(reflect.ValueOf(*v)) == nil {
				t.Fatalf("a decoded record does not encode: %v", err)
			}
			return
		}
		again, err := decodeAny(enc)
		if err != nil {
			t.Fatalf("the re-encoded record does not decode: %v", err)
		}
		if diff := cmp.Diff(v, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("re-encoding changed the record (-first +second):\n%s", diff)
		}
	})
}

// addSeeds adds records of testdata/legacy to the seed corpus.
func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(readLegacy(f, name))
	}
}
