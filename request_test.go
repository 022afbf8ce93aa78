package connect_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect"
)

// The body of Ampersand's oauth-connect curl example, byte for byte.
const ampersandOAuthConnectBody = `
{
  "projectId": "my-project",
  "provider": "salesforce",
  "groupRef": "group-123",
  "consumerRef": "user_123456"
}
`

func TestOAuthConnectRequestDecodesAmpersandOAuthConnect(t *testing.T) {
	var req connect.OAuthConnectRequest
	if err := json.Unmarshal([]byte(ampersandOAuthConnectBody), &req); err != nil {
		t.Fatal(err)
	}
	want := connect.OAuthConnectRequest{ProjectID: "my-project", Provider: "salesforce", GroupRef: "group-123", ConsumerRef: "user_123456"}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if err := req.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	full := `{"projectId": "my-project", "provider": "netsuite", "groupRef": "group-123", "consumerRef": "user_123456",
		"groupName": "Organization Name", "consumerName": "John Doe", "providerWorkspaceRef": "acme-corp",
		"providerMetadata": {"accountId": {"value": "1234567890", "source": "input"}},
		"providerAppId": "32356abe-d2fd-49c7-9030-abdcbc6456d4", "enableCSRFProtection": false,
		"scopes": ["a"], "prompt": "consent", "additionalParams": "x=1", "disableOfflineAccess": true}`
	req = connect.OAuthConnectRequest{}
	if err := json.Unmarshal([]byte(full), &req); err != nil {
		t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := req.ProviderMetadata["accountId"]; got.Value != "1234567890" || got.Source != "input" {
		t.Errorf("providerMetadata.accountId = %+v", got)
	}
}

func validConnection() connect.ConnectionRequest {
	return connect.ConnectionRequest{ProjectID: "proj", Provider: "pipedrive", GroupRef: "g", ConsumerRef: "c", APIKey: "key-123"}
}

func TestConnectionRequestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*connect.ConnectionRequest)
		fields []string // nil: valid
	}{
		{"api key", func(*connect.ConnectionRequest) {}, nil},
		{"api key at the limit", func(r *connect.ConnectionRequest) { r.APIKey = connect.Secret(strings.Repeat("k", 4096)) }, nil},
		{"api key too long", func(r *connect.ConnectionRequest) { r.APIKey = connect.Secret(strings.Repeat("k", 4097)) }, []string{"apiKey"}},
		{"api key with CRLF", func(r *connect.ConnectionRequest) { r.APIKey = "abc\r\nX-Injected: 1" }, []string{"apiKey"}},
		{"no credentials", func(r *connect.ConnectionRequest) { r.APIKey = "" }, []string{"credentials"}},
		{"two credential kinds", func(r *connect.ConnectionRequest) {
			r.BasicAuth = &connect.BasicAuth{Username: "u", Password: "p"}
		}, []string{"credentials"}},
		{"missing identity", func(r *connect.ConnectionRequest) {
			r.ProjectID, r.Provider, r.GroupRef, r.ConsumerRef = "", "", "", ""
		},
			[]string{"projectId", "provider", "groupRef", "consumerRef"}},
		{"basic auth", func(r *connect.ConnectionRequest) {
			r.APIKey, r.BasicAuth = "", &connect.BasicAuth{Username: "ada", Password: "pw"}
		}, nil},
		{"basic auth user with colon", func(r *connect.ConnectionRequest) {
			r.APIKey, r.BasicAuth = "", &connect.BasicAuth{Username: "a:b", Password: "pw"}
		}, []string{"basicAuth.username"}},
		{"basic auth without password", func(r *connect.ConnectionRequest) {
			r.APIKey, r.BasicAuth = "", &connect.BasicAuth{Username: "ada"}
		}, []string{"basicAuth.password"}},
		{"basic auth password too long", func(r *connect.ConnectionRequest) {
			r.APIKey, r.BasicAuth = "", &connect.BasicAuth{Username: "ada", Password: connect.Secret(strings.Repeat("p", 1025))}
		}, []string{"basicAuth.password"}},
		{"custom auth", func(r *connect.ConnectionRequest) {
			r.APIKey, r.CustomAuth = "", map[string]connect.Secret{"apiKey": "abcd1234", "password": "secret"}
		}, nil},
		{"custom auth bad name", func(r *connect.ConnectionRequest) {
			r.APIKey, r.CustomAuth = "", map[string]connect.Secret{"Bad-Name": "x"}
		}, []string{"customAuth.Bad-Name"}},
		{"custom auth empty value", func(r *connect.ConnectionRequest) {
			r.APIKey, r.CustomAuth = "", map[string]connect.Secret{"token": ""}
		}, []string{"customAuth.token"}},
		{"custom auth empty", func(r *connect.ConnectionRequest) { r.APIKey, r.CustomAuth = "", map[string]connect.Secret{} },
			[]string{"customAuth"}},
		{"custom auth too many", func(r *connect.ConnectionRequest) {
			r.APIKey, r.CustomAuth = "", map[string]connect.Secret{}
			for i := range 33 {
				r.CustomAuth[fmt.Sprintf("f%d", i)] = "v"
			}
		}, []string{"customAuth"}},
		{"client credentials", func(r *connect.ConnectionRequest) {
			r.APIKey, r.OAuth2ClientCredentials = "", &connect.OAuth2ClientCredentials{ClientID: "id", ClientSecret: "s", Scopes: []string{"a"}}
		}, nil},
		{"client credentials without secret, bad scope", func(r *connect.ConnectionRequest) {
			r.APIKey, r.OAuth2ClientCredentials = "", &connect.OAuth2ClientCredentials{ClientID: "id", Scopes: []string{"a b"}}
		}, []string{"oauth2ClientCredentials.clientSecret", "oauth2ClientCredentials.scopes.0"}},
		{"password credentials missing fields", func(r *connect.ConnectionRequest) {
			r.APIKey, r.OAuth2PasswordCredentials = "", &connect.OAuth2PasswordCredentials{Username: "u"}
		}, []string{"oauth2PasswordCredentials.password", "oauth2PasswordCredentials.clientId", "oauth2PasswordCredentials.clientSecret"}},
		{"imported tokens", func(r *connect.ConnectionRequest) {
			r.APIKey, r.OAuth2AuthorizationCode = "", &connect.OAuth2AuthorizationCode{AccessToken: &connect.TokenValue{Token: "at"}}
		}, nil},
		{"imported tokens without access token", func(r *connect.ConnectionRequest) {
			r.APIKey, r.OAuth2AuthorizationCode = "", &connect.OAuth2AuthorizationCode{RefreshToken: &connect.TokenValue{Token: "rt"}}
		}, []string{"oauth2AuthorizationCode.accessToken"}},
		{"imported access token empty", func(r *connect.ConnectionRequest) {
			r.APIKey, r.OAuth2AuthorizationCode = "", &connect.OAuth2AuthorizationCode{AccessToken: &connect.TokenValue{}}
		}, []string{"oauth2AuthorizationCode.accessToken.token"}},
		{"metadata key not an identifier", func(r *connect.ConnectionRequest) {
			r.ProviderMetadata = connect.ProviderMetadata{"a b": {Value: "x"}}
		}, []string{"providerMetadata.a b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validConnection()
			tt.edit(&r)
			err := r.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			for _, f := range tt.fields {
				assertField(t, err, f)
			}
		})
	}
}

func TestConnectionRequestNeverShowsSecrets(t *testing.T) {
	const s = "SENTINEL_SECRET_42"
	reqs := []connect.ConnectionRequest{
		{APIKey: s},
		{BasicAuth: &connect.BasicAuth{Username: "u", Password: s}},
		{CustomAuth: map[string]connect.Secret{"token": s}},
		{OAuth2ClientCredentials: &connect.OAuth2ClientCredentials{ClientID: "c", ClientSecret: s}},
		{OAuth2PasswordCredentials: &connect.OAuth2PasswordCredentials{Username: "u", Password: s, ClientID: "c", ClientSecret: s}},
		{OAuth2AuthorizationCode: &connect.OAuth2AuthorizationCode{AccessToken: &connect.TokenValue{Token: s}, RefreshToken: &connect.TokenValue{Token: s}}},
	}
	for i, r := range reqs {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			outs = append(outs, fmt.Sprintf(verb, r))
			if r.BasicAuth != nil {
				outs = append(outs, fmt.Sprintf(verb, r.BasicAuth))
			}
		}
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(j), r.Validate().Error())
		for _, out := range outs {
			if strings.Contains(out, s) {
				t.Errorf("request %d: output shows the secret: %s", i, out)
			}
		}
	}
	// Secrets still decode from JSON.
	var r connect.ConnectionRequest
	if err := json.Unmarshal([]byte(`{"apiKey": "`+s+`", "customAuth": {"token": "`+s+`"}}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.APIKey.Reveal() != s || r.CustomAuth["token"].Reveal() != s {
		t.Errorf("decoded secrets = %q, %q", r.APIKey.Reveal(), r.CustomAuth["token"].Reveal())
	}
}

// FuzzOAuthConnectRequestValidate decodes request bodies and validates them: a request
// accepted has its required fields and no control character in its text, and every refusal
// is a *ValidationError matching ErrInvalidRequest that names fields by their JSON names.
func FuzzOAuthConnectRequestValidate(f *testing.F) {
	f.Add(ampersandOAuthConnectBody)
	f.Add(`{"projectId":"p:1","provider":"a.b","groupRef":"g\u007f","consumerRef":"c","groupName":"\u00d1ame"}`)
	f.Add(`{"projectId":"proj","provider":"x","groupRef":"g","consumerRef":"c","providerMetadata":{"a b":{"value":""}}}`)
	f.Add(`{"projectId":"proj","provider":"x","groupRef":"g","consumerRef":"c","scopes":["a"],"prompt":"consent"}`)
	f.Add(`{}`)
	fields := map[string]bool{}
	rt := reflect.TypeFor[connect.OAuthConnectRequest]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		fields[name] = true
	}
	f.Fuzz(func(t *testing.T, body string) {
		var r connect.OAuthConnectRequest
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		err := r.Validate()
		if err == nil {
			for _, v := range []string{r.ProjectID, r.Provider, r.GroupRef, r.ConsumerRef} {
				if v == "" || strings.ContainsFunc(v, unicode.IsControl) {
					t.Fatalf("accepted %+v: a required field is empty or holds a control character", r)
				}
			}
			for _, v := range []string{r.GroupName, r.ConsumerName, r.ProviderWorkspaceRef} {
				if strings.ContainsFunc(v, unicode.IsControl) || !utf8.ValidString(v) {
					t.Fatalf("accepted %+v: %q is not text", r, v)
				}
			}
			return
		}
		var ve *connect.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, connect.ErrInvalidRequest) || len(ve.Fields) == 0 {
			t.Fatalf("Validate = %v, want a *ValidationError naming fields", err)
		}
		for _, fe := range ve.Fields {
			if name, _, _ := strings.Cut(fe.Field, "."); !fields[strings.TrimRight(name, "[0123456789]")] {
				t.Fatalf("error names %q, not a field of the request", fe.Field)
			}
		}
	})
}
