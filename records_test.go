package connect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

// TestRecordRoundTrip: a record gives back what it was given, secrets included: they are
// the record's to keep, so they are written as they are, not as a redacted Secret is.
func TestRecordRoundTrip(t *testing.T) {
	encSession := func(s *session) func() ([]byte, error) { return s.marshal }
	encCreds := func(c *credentials) func() ([]byte, error) { return c.encode }
	decodeSession := func(b []byte) (any, error) { return unmarshalSession(b) }
	decodeCreds := func(b []byte) (any, error) { return decodeCredentials(b) }
	every, everyCreds := legacySessionV2(), legacyCredentialsV2()
	tests := []struct {
		name    string
		encode  func() ([]byte, error)
		decode  func([]byte) (any, error)
		want    any
		secrets []string // written as they are
	}{
		{"session of every field", encSession(every), decodeSession, every, []string{legacyVerifier}},
		{"session of empty fields", encSession(&session{CreatedAt: time.Unix(0, 0).UTC(), ExpiresAt: time.Unix(1, 0).UTC()}), decodeSession,
			&session{CreatedAt: time.Unix(0, 0).UTC(), ExpiresAt: time.Unix(1, 0).UTC()}, nil},
		{"session with times in another zone", encSession(&session{CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 5*3600)), ExpiresAt: time.Unix(1, 0)}), decodeSession,
			&session{CreatedAt: time.Date(2024, 12, 31, 19, 0, 0, 1, time.UTC), ExpiresAt: time.Unix(1, 0)}, nil},
		{"no credentials", encCreds(&credentials{}), decodeCreds, &credentials{}, nil},
		{"credentials of every field", encCreds(everyCreds), decodeCreds, everyCreds, []string{everyCreds.AccessToken, everyCreds.RefreshToken,
			everyCreds.APIKey, everyCreds.Password, everyCreds.ClientSecret, everyCreds.Custom["apiToken"]}},
		{"credentials of a lease only", encCreds(&credentials{RefreshToken: "rt", LeaseOwner: "replica-1", LeaseUntil: time.Unix(2000, 7).UTC()}), decodeCreds,
			&credentials{RefreshToken: "rt", LeaseOwner: "replica-1", LeaseUntil: time.Unix(2000, 7).UTC()}, []string{"rt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte(`{"v":3,"data":{`)) {
				t.Errorf("record %s does not begin with its version", b)
			}
			got, err := tt.decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			for _, s := range tt.secrets {
				if !bytes.Contains(b, []byte(`"`+s+`"`)) {
					t.Errorf("record %s does not hold %q", b, s)
				}
			}
			if again, _ := tt.encode(); !bytes.Equal(again, b) {
				t.Errorf("encoding is not deterministic:\n%s\n%s", b, again)
			}
		})
	}
}

// TestLegacyRecords reads records written before the JSON format: flows started before an
// upgrade end after it, and stored connections still open.
func TestLegacyRecords(t *testing.T) {
	session := func(b []byte) (any, error) { return unmarshalSession(b) }
	creds := func(b []byte) (any, error) { return decodeCredentials(b) }
	tests := []struct {
		file   string
		decode func([]byte) (any, error)
		want   any
	}{
		{"session-v1.bin", session, legacySessionV1()},
		{"session-v2.bin", session, legacySessionV2()},
		{"credentials-v1.bin", creds, legacyCredentialsV1()},
		{"credentials-v2.bin", creds, legacyCredentialsV2()},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := tt.decode(readLegacy(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("legacy record (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCallbackCompletesLegacySession: a flow whose pending authorization was saved before
// the upgrade completes after it, with everything the record fixed.
func TestCallbackCompletesLegacySession(t *testing.T) {
	for _, file := range []string{"session-v1.bin", "session-v2.bin"} {
		t.Run(file, func(t *testing.T) {
			var gotForm map[string][]string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				gotForm = r.PostForm
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprint(w, `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":3600,"scope":"read write"}`)
			}))
			defer srv.Close()
			reg := providers.NewRegistry()
			if err := reg.Register(&providers.Provider{Name: "legacy", AuthURL: "https://auth.example.com/authorize", TokenURL: "https://auth.example.com/token"}); err != nil {
				t.Fatal(err)
			}
			states := state.NewMemoryStore()
			const tok = "legacyStateToken_0123456789-abcdefghijklmno"
			if err := states.Save(context.Background(), state.Key(tok), readLegacy(t, file), time.Hour); err != nil {
				t.Fatal(err)
			}
			c, err := New(Config{
				Providers: reg,
				Apps: NewMemoryAppStore(ProviderApp{ID: "legacy-app", ProjectID: "proj", Provider: "legacy",
					ClientID: "legacy-client", ClientSecret: "legacy-secret"}),
				States:      states,
				RedirectURL: "https://app.example.com/callbacks/v1/oauth",
				HTTPClient:  &http.Client{Transport: legacyRoute{srv}},
				Now:         func() time.Time { return time.Date(2025, 6, 1, 12, 5, 0, 0, time.UTC) },
			})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "https://app.example.com/callbacks/v1/oauth?code=the-code&state="+tok, nil)
			r.AddCookie(&http.Cookie{Name: BindingCookieName(tok), Value: legacyBinding})
			conn, err := c.Callback(context.Background(), r)
			if err != nil {
				t.Fatalf("Callback: %v", err)
			}
			if v, u := gotForm["code_verifier"], gotForm["redirect_uri"]; len(v) != 1 || v[0] != legacyVerifier || len(u) != 1 || u[0] != "https://app.example.com/callbacks/v1/oauth" {
				t.Errorf("token request sent code_verifier %q, redirect_uri %q; want the legacy record's", v, u)
			}
			want := Connection{
				ID: conn.ID, ProjectID: "proj", Provider: "legacy",
				Group: Group{Ref: "group-1", Name: "Group One"}, Consumer: Consumer{Ref: "user-1", Name: "User One"},
				ProviderWorkspaceRef: "acme",
				ProviderMetadata:     ProviderMetadata{"accountId": {Value: "123456", Source: "input"}, "region": {Value: "eu", Source: "input"}},
				ProviderApp:          &ConnectionApp{ID: "legacy-app", ClientID: "legacy-client"},
				AuthScheme:           AuthSchemeOAuth2AuthorizationCode, Status: StatusWorking, Scopes: []string{"read", "write"},
				CreateTime: conn.CreateTime, UpdateTime: conn.UpdateTime,
			}
			if diff := cmp.Diff(want, *conn); diff != "" {
				t.Errorf("connection (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRecordsRejectBadInput: a malformed record or one of a version this release does not
// know is an error matching the record's kind and repeating none of it, never a guess.
func TestRecordsRejectBadInput(t *testing.T) {
	sessionJSON, err := legacySessionV2().marshal()
	if err != nil {
		t.Fatal(err)
	}
	credsJSON, err := legacyCredentialsV2().encode()
	if err != nil {
		t.Fatal(err)
	}
	sessionBin, credsBin := readLegacy(t, "session-v2.bin"), readLegacy(t, "credentials-v2.bin")
	session := func(b []byte) error { _, err := unmarshalSession(b); return err }
	creds := func(b []byte) error { _, err := decodeCredentials(b); return err }
	tests := []struct {
		name    string
		decode  func([]byte) error
		kind    error
		rec     []byte
		wantMsg string // in the error, when not ""
	}{
		{"session empty", session, errSessionRecord, nil, ""},
		{"session of a newer version", session, errSessionRecord, bytes.Replace(sessionJSON, []byte(`"v":3`), []byte(`"v":4`), 1), "format version 4 is unknown"},
		{"session JSON of binary version 2", session, errSessionRecord, bytes.Replace(sessionJSON, []byte(`"v":3`), []byte(`"v":2`), 1), "format version 2 is unknown"},
		{"session without version", session, errSessionRecord, []byte(`{"data":{"provider":"legacy"}}`), "format version 0 is unknown"},
		{"session version as a string", session, errSessionRecord, []byte(`{"v":"3"}`), ""},
		{"session without data", session, errSessionRecord, []byte(`{"v":3}`), "no data"},
		{"session null data", session, errSessionRecord, []byte(`{"v":3,"data":null}`), "no data"},
		{"session unknown member", session, errSessionRecord, bytes.Replace(sessionJSON, []byte(`"data":{`), []byte(`"data":{"refreshAt":"x",`), 1), ""},
		{"session unknown top-level member", session, errSessionRecord, bytes.Replace(sessionJSON, []byte(`"v":3,`), []byte(`"v":3,"w":1,`), 1), ""},
		{"session member of the wrong type", session, errSessionRecord, []byte(`{"v":3,"data":{"scopes":"read"}}`), ""},
		{"session bad time", session, errSessionRecord, []byte(`{"v":3,"data":{"createdAt":"yesterday"}}`), ""},
		{"session truncated JSON", session, errSessionRecord, sessionJSON[:len(sessionJSON)-1], ""},
		{"session trailing JSON", session, errSessionRecord, append(bytes.Clone(sessionJSON), `{}`...), ""},
		{"session trailing brace", session, errSessionRecord, append(bytes.Clone(sessionJSON), `}`...), ""},
		{"session trailing bracket", session, errSessionRecord, append(bytes.Clone(sessionJSON), ` ]`...), ""},
		{"session other binary version", session, errSessionRecord, append([]byte{9}, sessionBin[1:]...), ""},
		{"session truncated binary", session, errSessionRecord, sessionBin[:len(sessionBin)-1], ""},
		{"session trailing binary", session, errSessionRecord, append(bytes.Clone(sessionBin), 0), ""},
		{"session huge binary length", session, errSessionRecord, []byte{legacyV2, 0xff, 0xff, 0xff, 0xff, 0x0f}, ""},
		{"credentials empty", creds, errCredentials, nil, ""},
		{"credentials of a newer version", creds, errCredentials, bytes.Replace(credsJSON, []byte(`"v":3`), []byte(`"v":4`), 1), "format version 4 is unknown"},
		{"credentials without data", creds, errCredentials, []byte(`{"v":3}`), "no data"},
		{"credentials unknown member", creds, errCredentials, []byte(`{"v":3,"data":{"apiKey":"k","apiSecret":"s"}}`), ""},
		{"credentials member of the wrong type", creds, errCredentials, []byte(`{"v":3,"data":{"custom":["a"]}}`), ""},
		{"credentials truncated JSON", creds, errCredentials, credsJSON[:len(credsJSON)-1], ""},
		{"credentials other binary version", creds, errCredentials, append([]byte{9}, credsBin[1:]...), ""},
		{"credentials truncated binary", creds, errCredentials, credsBin[:len(credsBin)-1], ""},
		{"credentials trailing binary", creds, errCredentials, append(bytes.Clone(credsBin), 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.rec)
			if err == nil {
				t.Fatal("decoded, want an error")
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v does not match %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q, want it to say %q", err, tt.wantMsg)
			}
			for _, s := range []string{"SENTINEL", `"k"`} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q repeats the record", err)
				}
			}
		})
	}
}

// TestRecordsRefuseBytesJSONCannotHold: JSON strings are Unicode text, and encoding/json
// would replace other bytes; a record never stores a value changed.
func TestRecordsRefuseBytesJSONCannotHold(t *testing.T) {
	const bad = "SENTINEL\xff\xfe"
	tests := []struct {
		name   string
		encode func() ([]byte, error)
		field  string
	}{
		{"session field", func() ([]byte, error) { return (&session{GroupName: bad}).marshal() }, "groupName"},
		{"session list", func() ([]byte, error) { return (&session{Scopes: []string{"read", bad}}).marshal() }, "scopes"},
		{"session map key", func() ([]byte, error) { return (&session{Metadata: map[string]string{bad: "x"}}).marshal() }, "metadata"},
		{"credentials field", func() ([]byte, error) { return (&credentials{RefreshToken: bad}).encode() }, "refreshToken"},
		{"credentials map value", func() ([]byte, error) { return (&credentials{Custom: map[string]string{"k": bad}}).encode() }, "custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.encode()
			if err == nil {
				t.Fatalf("encoded as %s, want an error", b)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.field) || strings.Contains(msg, "SENTINEL") {
				t.Errorf("error %q, want one naming %s and not the value", msg, tt.field)
			}
		})
	}
}

// TestRecordsNeverPrinted: the record types show none of their fields, to fmt or to slog.
func TestRecordsNeverPrinted(t *testing.T) {
	values := []any{legacySessionV2(), *legacySessionV2(), legacyCredentialsV2(), *legacyCredentialsV2()}
	secrets := []string{legacyVerifier, "SENTINEL", "acme", "alice"}
	for i, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("value %d (%T) under %s shows %q: %s", i, v, verb, s, out)
				}
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "record", v)
		for _, s := range secrets {
			if strings.Contains(buf.String(), s) {
				t.Errorf("value %d (%T) logged shows %q: %s", i, v, s, buf.String())
			}
		}
	}
}

func FuzzSessionRecord(f *testing.F) {
	fuzzRecord(f, unmarshalSession, unmarshalSession, (*session).marshal, legacySessionV2(), &session{})
}

func FuzzLegacySession(f *testing.F) {
	addSeeds(f, "session-v1.bin", "session-v2.bin")
	f.Add([]byte{legacyV2})
	fuzzRecord(f, legacySession, unmarshalSession, (*session).marshal)
}

func FuzzCredentialsRecord(f *testing.F) {
	fuzzRecord(f, decodeCredentials, decodeCredentials, (*credentials).encode, legacyCredentialsV2(), &credentials{})
}

func FuzzLegacyCredentials(f *testing.F) {
	addSeeds(f, "credentials-v1.bin", "credentials-v2.bin")
	f.Add([]byte{legacyV2})
	fuzzRecord(f, legacyCredentials, decodeCredentials, (*credentials).encode)
}
