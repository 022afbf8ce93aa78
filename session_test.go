package connect

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testSession() *session {
	return &session{
		ProjectID: "p", Provider: "plain", GroupRef: "g", GroupName: "G",
		ConsumerRef: "c", ConsumerName: "C", Workspace: "acme", Metadata: map[string]string{"accountId": "1", "b": "2"},
		AppID: "a", RedirectURI: "https://app.example.com/cb", TokenURL: "https://auth.example.com/token",
		RefreshURL: "https://auth.example.com/refresh",
		Scopes:     []string{"a", "offline_access"}, Verifier: "v", BindingHash: []byte{1, 2},
		CreatedAt: time.Unix(100, 5).UTC(), ExpiresAt: time.Unix(700, 0).UTC(),
	}
}

func TestSessionRoundTrip(t *testing.T) {
	for _, s := range []*session{testSession(), {CreatedAt: time.Unix(0, 0).UTC(), ExpiresAt: time.Unix(1, 0).UTC()}} {
		b := s.marshal()
		got, err := unmarshalSession(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if !bytes.Equal(got.marshal(), b) {
			t.Errorf("encoding is not deterministic")
		}
	}
}

// TestSessionVersion1 reads a record written before RefreshURL, as a flow started before an
// upgrade and ending after it has: version 2 without the refresh URL's empty string.
func TestSessionVersion1(t *testing.T) {
	s := testSession()
	s.RefreshURL = ""
	b := s.marshal()
	b[0] = sessionVersionV1
	got, err := unmarshalSession(b[:len(b)-1])
	if err != nil {
		t.Fatalf("a version 1 record: %v", err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("version 1 record (-want +got):\n%s", diff)
	}
}

func TestSessionRejectsBadRecords(t *testing.T) {
	good := testSession().marshal()
	tests := map[string][]byte{
		"empty":          nil,
		"other version":  append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(bytes.Clone(good), 0),
		"huge length":    {sessionVersion, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"json":           []byte(`{"v":1}`),
	}
	for name, b := range tests {
		if _, err := unmarshalSession(b); err == nil {
			t.Errorf("%s: unmarshalSession succeeded", name)
		}
	}
}

func FuzzUnmarshalSession(f *testing.F) {
	f.Add(testSession().marshal())
	f.Add([]byte{sessionVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := unmarshalSession(b)
		if err != nil {
			return
		}
		again, err := unmarshalSession(s.marshal())
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Fatalf("re-encoding changed the session (-first +second):\n%s", diff)
		}
	})
}

func TestCredentialsRoundTrip(t *testing.T) {
	for _, c := range []*credentials{
		{},
		{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Expiry: time.Unix(1000, 5).UTC(), ObtainedAt: time.Unix(900, 0).UTC(),
			APIKey: "k", Username: "u", Password: "p", Custom: map[string]string{"b": "2", "a": "1"},
			ClientID: "id", ClientSecret: "s", Scopes: []string{"x", "y"}, TokenURL: "https://a.example/token"},
		{RefreshToken: "rt", LeaseOwner: "replica-1", LeaseUntil: time.Unix(2000, 7).UTC(), RefreshURL: "https://a.example/refresh"},
	} {
		got, err := decodeCredentials(c.encode())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	// Version 1, written before the refresh lease and refresh URL, is read as credentials
	// without them: it is version 2 without their empty strings and zero time.
	v1 := &credentials{AccessToken: "at", RefreshToken: "rt", Scopes: []string{"s"}, Expiry: time.Unix(1000, 0).UTC()}
	b := v1.encode()
	b[0] = credentialsVersionV1
	if got, err := decodeCredentials(b[:len(b)-3]); err != nil || !cmp.Equal(got, v1) {
		t.Errorf("version 1 credentials decode to %+v, %v; want %+v", got, err, v1)
	}

	good := (&credentials{AccessToken: "at"}).encode()
	for name, b := range map[string][]byte{
		"empty": nil, "other version": append([]byte{9}, good[1:]...), "truncated": good[:len(good)-1],
		"trailing": append(bytes.Clone(good), 0),
	} {
		if _, err := decodeCredentials(b); err == nil {
			t.Errorf("%s: decodeCredentials succeeded", name)
		}
	}
}

func FuzzDecodeCredentials(f *testing.F) {
	f.Add((&credentials{AccessToken: "at", Custom: map[string]string{"a": "1"}, Scopes: []string{"s"}}).encode())
	f.Add([]byte{credentialsVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCredentials(b)
		if err != nil {
			return
		}
		again, err := decodeCredentials(c.encode())
		if err != nil {
			t.Fatalf("re-encoded credentials do not decode: %v", err)
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("re-encoding changed the credentials (-first +second):\n%s", diff)
		}
	})
}

// TestUnreservedTable holds the table to RFC 3986 §2.3.
func TestUnreservedTable(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", byte(c)) >= 0
		if got := unreservedByte(byte(c)); got != want {
			t.Errorf("unreservedByte(%#x) = %t, want %t", c, got, want)
		}
	}
}
