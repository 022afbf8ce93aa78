package authserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connect/examples/authserver"
	"golang.org/x/oauth2"
)

// The API keys of apiConfig.
const (
	apiKey1 = "key-one-0123456789abcdef"
	apiKey2 = "key-two-0123456789abcdef"
)

func apiConfig() authserver.Config {
	cfg := testConfig()
	cfg.APIKeys = []string{apiKey1, apiKey2}
	return cfg
}

// callMe sends GET /api/me with the headers given as name, value pairs and returns the
// status, the WWW-Authenticate header and the body.
func callMe(t *testing.T, base string, header ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	return res.StatusCode, res.Header.Get("WWW-Authenticate"), string(b)
}

func TestAPIMeWithAccessToken(t *testing.T) {
	start0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := newClock(start0)
	cfg := apiConfig()
	cfg.Now = clk.Now
	srv, ts := start(t, cfg)
	conf := oauthConfig(ts, "read", "offline_access")
	verifier := oauth2.GenerateVerifier()
	tok, err := conf.Exchange(context.Background(), approve(t, srv, conf, verifier), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}

	status, _, body := callMe(t, ts.URL, "Authorization", "Bearer "+tok.AccessToken)
	if status != http.StatusOK {
		t.Fatalf("GET /api/me with the access token: %d %s, want 200", status, body)
	}
	var me authserver.Me
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	if me.AuthenticatedBy != "accessToken" || me.Subject != username || me.ClientID != clientID ||
		!slices.Equal(me.Scopes, []string{"read", "offline_access"}) || me.ExpiresAt.Sub(start0.Add(time.Hour)).Abs() > time.Second {
		t.Errorf("GET /api/me = %+v, want alice's token of %s, read offline_access, expiring at %v", me, clientID, start0.Add(time.Hour))
	}
	if strings.Contains(body, tok.AccessToken) {
		t.Error("the answer echoes the access token")
	}
	// The scheme is case-insensitive (RFC 9110 section 11.1).
	if status, _, body := callMe(t, ts.URL, "Authorization", "bearer "+tok.AccessToken); status != http.StatusOK {
		t.Errorf("with scheme bearer: %d %s, want 200", status, body)
	}

	// A refresh token is not an access token, though fosite's introspection knows both.
	status, challenge, _ := callMe(t, ts.URL, "Authorization", "Bearer "+tok.RefreshToken)
	if status != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) {
		t.Errorf("with the refresh token: %d %q, want 401 invalid_token", status, challenge)
	}

	clk.Advance(time.Hour + time.Second)
	if status, challenge, _ := callMe(t, ts.URL, "Authorization", "Bearer "+tok.AccessToken); status != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) {
		t.Errorf("with the expired access token: %d %q, want 401 invalid_token", status, challenge)
	}
}

// TestAPIMeAfterRevocation revokes a grant at /revoke (RFC 7009) by its refresh token: its
// access token is refused at once.
func TestAPIMeAfterRevocation(t *testing.T) {
	_, ts := start(t, apiConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	tok, err := conf.PasswordCredentialsToken(context.Background(), username, password)
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v", err)
	}
	if status, _, body := callMe(t, ts.URL, "Authorization", "Bearer "+tok.AccessToken); status != http.StatusOK {
		t.Fatalf("before revocation: %d %s, want 200", status, body)
	}
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/revoke", strings.NewReader(url.Values{
		"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"},
	}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d, want 200", res.StatusCode)
	}
	if status, _, _ := callMe(t, ts.URL, "Authorization", "Bearer "+tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("after revocation: status %d, want 401", status)
	}
}

func TestAPIMeWithAPIKey(t *testing.T) {
	_, ts := start(t, apiConfig())
	status, _, body := callMe(t, ts.URL, "X-Api-Key", apiKey2)
	if status != http.StatusOK {
		t.Fatalf("with the second API key: %d %s, want 200", status, body)
	}
	var me authserver.Me
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	if want := (authserver.Me{AuthenticatedBy: "apiKey", Subject: "api-key-2"}); !equalMe(me, want) {
		t.Errorf("GET /api/me = %+v, want %+v", me, want)
	}
	if strings.Contains(body, apiKey2) {
		t.Error("the answer echoes the API key")
	}
}

func TestAPIMeRefuses(t *testing.T) {
	_, ts := start(t, apiConfig())
	tests := []struct {
		name          string
		header        []string
		wantStatus    int
		wantChallenge string
	}{
		{"no credential", nil, http.StatusUnauthorized, `Bearer realm="authserver"`},
		{"unknown API key", []string{"X-Api-Key", "key-three-0123456789abcdef"}, http.StatusUnauthorized, `Bearer realm="authserver", error="invalid_token"`},
		{"API key as bearer token", []string{"Authorization", "Bearer " + apiKey1}, http.StatusUnauthorized, `Bearer realm="authserver", error="invalid_token"`},
		{"unknown token", []string{"Authorization", "Bearer not-a-token"}, http.StatusUnauthorized, `Bearer realm="authserver", error="invalid_token"`},
		{"basic", []string{"Authorization", "Basic YWxpY2U6d29uZGVybGFuZA=="}, http.StatusUnauthorized, `Bearer realm="authserver", error="invalid_request"`},
		{"empty bearer", []string{"Authorization", "Bearer "}, http.StatusUnauthorized, `Bearer realm="authserver", error="invalid_request"`},
		{"two credentials", []string{"X-Api-Key", apiKey1, "Authorization", "Bearer x"}, http.StatusBadRequest, `Bearer realm="authserver", error="invalid_request"`},
		{"one API key twice", []string{"X-Api-Key", apiKey1, "X-Api-Key", apiKey1}, http.StatusBadRequest, `Bearer realm="authserver", error="invalid_request"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, challenge, body := callMe(t, ts.URL, tt.header...)
			if status != tt.wantStatus || challenge != tt.wantChallenge {
				t.Errorf("status %d, WWW-Authenticate %q; want %d, %q", status, challenge, tt.wantStatus, tt.wantChallenge)
			}
			for i := 1; i < len(tt.header); i += 2 {
				if v := tt.header[i]; len(v) > 8 && strings.Contains(body, v) {
					t.Errorf("the answer %s echoes the credential", body)
				}
			}
		})
	}
}

func TestAPIKeysTooShort(t *testing.T) {
	cfg := testConfig()
	cfg.APIKeys = []string{"short"}
	if _, err := authserver.New(cfg); err == nil || strings.Contains(err.Error(), "short\"") {
		t.Errorf("New with a short API key: %v, want an error that does not quote the key", err)
	}
}

func equalMe(a, b authserver.Me) bool {
	return a.AuthenticatedBy == b.AuthenticatedBy && a.Subject == b.Subject && a.ClientID == b.ClientID &&
		slices.Equal(a.Scopes, b.Scopes) && a.ExpiresAt.Equal(b.ExpiresAt)
}
