package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/connectkit/connect"
)

func TestConnectAPIKey(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		key      string
		field    string // "" means success
		sentinel error
	}{
		{name: "accepted", provider: "keyed", key: sentinelAPIKey},
		{name: "at the 4 KiB limit", provider: "keyed", key: sentinelAPIKey + strings.Repeat("k", 4096-len(sentinelAPIKey))},
		{name: "provider without apiKey", provider: "basic", key: sentinelAPIKey, field: "apiKey", sentinel: connect.ErrGrantNotAllowed},
		{name: "OAuth provider", provider: "oauth", key: sentinelAPIKey, field: "apiKey", sentinel: connect.ErrGrantNotAllowed},
		{name: "CRLF header injection", provider: "keyed", key: sentinelAPIKey + "\r\nX-Injected: 1", field: "apiKey"},
		{name: "over 4 KiB", provider: "keyed", key: sentinelAPIKey + strings.Repeat("k", 4097-len(sentinelAPIKey)), field: "apiKey"},
		{name: "unknown provider", provider: "nope", key: sentinelAPIKey, field: "provider", sentinel: connect.ErrUnknownProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := connectionRequest(tt.provider)
			r.APIKey = connect.Secret(tt.key)
			conn, err := f.c.Connect(context.Background(), r)
			if tt.field != "" {
				if conn != nil {
					t.Errorf("Connect returned %+v with an error", conn)
				}
				if got := errorFields(err); !errors.Is(err, connect.ErrInvalidRequest) || !cmp.Equal(got, []string{tt.field}) {
					t.Fatalf("error = %v (fields %q); want a ValidationError naming only %q", err, got, tt.field)
				}
				if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
					t.Errorf("error %v does not match %v", err, tt.sentinel)
				}
				f.assertRefused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.ID == "" || conn.AuthScheme != connect.AuthSchemeAPIKey || conn.Status != connect.StatusCreated {
				t.Errorf("connection id %q, scheme %q, status %q; want an id, %q, %q",
					conn.ID, conn.AuthScheme, conn.Status, connect.AuthSchemeAPIKey, connect.StatusCreated)
			}
			if !conn.CreateTime.Equal(f.clock.Now()) || !conn.UpdateTime.Equal(f.clock.Now()) {
				t.Errorf("create/update time = %v/%v, want the clock's %v", conn.CreateTime, conn.UpdateTime, f.clock.Now())
			}
			cr, err := f.c.Credentials(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if got := cr.APIKey.Reveal(); got != tt.key {
				t.Errorf("Credentials().APIKey = %.40q..., want the key given", got)
			}
			if cr.AuthScheme != connect.AuthSchemeAPIKey || cr.Username != "" || cr.Password != "" {
				t.Errorf("Credentials = %+v, want only the API key", cr)
			}
			if got := f.count(t, "proj"); got != 1 {
				t.Errorf("%d connections stored, want 1", got)
			}
		})
	}
}

func TestConnectBasicAuth(t *testing.T) {
	tests := []struct {
		name   string
		basic  connect.BasicAuth
		fields []string // nil means success
	}{
		{name: "stored", basic: connect.BasicAuth{Username: "alice@example.com", Password: sentinelBasicPassword}},
		{name: "username with a colon", basic: connect.BasicAuth{Username: "ali:ce", Password: sentinelBasicPassword}, fields: []string{"basicAuth.username"}},
		{name: "no password", basic: connect.BasicAuth{Username: "alice"}, fields: []string{"basicAuth.password"}},
		{name: "password with LF", basic: connect.BasicAuth{Username: "alice", Password: sentinelBasicPassword + "\n"}, fields: []string{"basicAuth.password"}},
		{name: "username too long", basic: connect.BasicAuth{Username: strings.Repeat("u", 257), Password: sentinelBasicPassword}, fields: []string{"basicAuth.username"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := connectionRequest("basic")
			b := tt.basic
			r.BasicAuth = &b
			conn, err := f.c.Connect(context.Background(), r)
			if tt.fields != nil {
				if got := errorFields(err); conn != nil || !errors.Is(err, connect.ErrInvalidRequest) || !cmp.Equal(got, tt.fields) {
					t.Fatalf("Connect = %v, %v (fields %q); want a ValidationError naming %q", conn, err, got, tt.fields)
				}
				f.assertRefused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.AuthScheme != connect.AuthSchemeBasic || conn.Status != connect.StatusCreated {
				t.Errorf("scheme %q, status %q; want %q, %q", conn.AuthScheme, conn.Status, connect.AuthSchemeBasic, connect.StatusCreated)
			}
			cr, err := f.c.Credentials(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if cr.Username != tt.basic.Username || cr.Password.Reveal() != sentinelBasicPassword || cr.APIKey != "" {
				t.Errorf("Credentials = %q / %q, want %q / the password", cr.Username, cr.Password.Reveal(), tt.basic.Username)
			}
		})
	}
}

func TestConnectCustomAuth(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]connect.Secret
		fields []string // nil means success
	}{
		{name: "required fields", values: map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme"}},
		{name: "with the optional field", values: map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme", "region": "eu"}},
		{name: "at maxLength", values: map[string]connect.Secret{"apiToken": connect.Secret(sentinelCustomToken + strings.Repeat("a", 40-len(sentinelCustomToken))), "subdomain": "acme"}},
		{name: "unknown field", values: map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme", "foo": sentinelCustomToken},
			fields: []string{"customAuth.foo"}},
		{name: "missing required field", values: map[string]connect.Secret{"apiToken": sentinelCustomToken}, fields: []string{"customAuth.subdomain"}},
		{name: "pattern mismatch", values: map[string]connect.Secret{"apiToken": sentinelCustomToken + "!", "subdomain": "acme"},
			fields: []string{"customAuth.apiToken"}},
		{name: "pattern is anchored", values: map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme", "region": "euro"},
			fields: []string{"customAuth.region"}},
		{name: "longer than maxLength", values: map[string]connect.Secret{"apiToken": connect.Secret(sentinelCustomToken + strings.Repeat("a", 41-len(sentinelCustomToken))), "subdomain": "acme"},
			fields: []string{"customAuth.apiToken"}},
		{name: "control character", values: map[string]connect.Secret{"apiToken": sentinelCustomToken + "\r\n", "subdomain": "acme"},
			fields: []string{"customAuth.apiToken"}},
		{name: "several errors", values: map[string]connect.Secret{"apiToken": sentinelCustomToken + "!", "bar": sentinelCustomToken},
			fields: []string{"customAuth.apiToken", "customAuth.bar", "customAuth.subdomain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := connectionRequest("custom")
			r.CustomAuth = tt.values
			conn, err := f.c.Connect(context.Background(), r)
			if tt.fields != nil {
				got := errorFields(err)
				if conn != nil || !errors.Is(err, connect.ErrInvalidRequest) ||
					!cmp.Equal(got, tt.fields, cmpopts.SortSlices(func(a, b string) bool { return a < b })) {
					t.Fatalf("Connect = %v, %v (fields %q); want a ValidationError naming %q", conn, err, got, tt.fields)
				}
				f.assertRefused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.AuthScheme != connect.AuthSchemeCustom {
				t.Errorf("scheme %q, want %q", conn.AuthScheme, connect.AuthSchemeCustom)
			}
			cr, err := f.c.Credentials(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			got := map[string]string{}
			for k, v := range cr.Custom {
				got[k] = v.Reveal()
			}
			want := map[string]string{}
			for k, v := range tt.values {
				want[k] = v.Reveal()
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Credentials().Custom (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConnectClientCredentials(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		if r.Form.Get("grant_type") != "client_credentials" || !r.Basic || r.ClientID != "machine-client" || r.ClientSecret != sentinelClientSecret {
			return http.StatusUnauthorized, `{"error":"invalid_client"}`
		}
		if r.Form.Has("client_secret") {
			return http.StatusBadRequest, `{"error":"invalid_request","error_description":"two client authentications"}`
		}
		access := sentinelAccessToken
		if n := r.Form.Get("n"); n != "" {
			access += n
		}
		return http.StatusOK, tokenJSON(access, sentinelRefreshToken, 3600)
	})
	r := connectionRequest("machine")
	r.OAuth2ClientCredentials = &connect.OAuth2ClientCredentials{ClientID: "machine-client", ClientSecret: sentinelClientSecret, Scopes: []string{"read", "write"}}
	conn := f.connect(t, r)

	if conn.Status != connect.StatusWorking || conn.AuthScheme != connect.AuthSchemeOAuth2ClientCredentials {
		t.Errorf("status %q, scheme %q; want %q, %q", conn.Status, conn.AuthScheme, connect.StatusWorking, connect.AuthSchemeOAuth2ClientCredentials)
	}
	if diff := cmp.Diff([]string{"read", "write"}, conn.Scopes); diff != "" {
		t.Errorf("Scopes (-want +got):\n%s", diff)
	}
	reqs := f.srv.requests()
	if len(reqs) != 1 || reqs[0].Form.Get("scope") != "read write" {
		t.Fatalf("token requests = %+v, want one asking for scope %q", reqs, "read write")
	}
	// Without a keyring the memory store keeps plaintext JSON: the refresh token must not be there.
	for _, rec := range f.records(t, "proj") {
		if bytes.Contains(rec.Credentials, []byte(sentinelRefreshToken)) {
			t.Errorf("the stored credentials keep the refresh token of a client credentials grant")
		}
	}

	ts, err := f.c.TokenSource(ctx, conn.ID)
	if err != nil {
		t.Fatalf("TokenSource: %v", err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken != sentinelAccessToken || tok.RefreshToken != "" {
		t.Errorf("Token = %q refresh %q; want the fetched access token and no refresh token", tok.AccessToken, tok.RefreshToken)
	}
	if got := f.srv.count(); got != 1 {
		t.Errorf("the valid token cost %d token requests, want 1", got)
	}

	// After expiry, a new token comes from the client credentials grant again.
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		if r.Form.Get("grant_type") != "client_credentials" || r.ClientSecret != sentinelClientSecret || r.Form.Has("refresh_token") {
			return http.StatusBadRequest, `{"error":"unsupported_grant_type"}`
		}
		return http.StatusOK, tokenJSON(sentinelAccessToken2, sentinelRefreshToken2, 3600)
	})
	f.clock.Advance(2 * time.Hour)
	tok, err = ts.Token()
	if err != nil {
		t.Fatalf("Token after expiry: %v", err)
	}
	if tok.AccessToken != sentinelAccessToken2 {
		t.Errorf("Token after expiry = %q, want %q", tok.AccessToken, sentinelAccessToken2)
	}
	reqs = f.srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d token requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if g := r.Form.Get("grant_type"); g != "client_credentials" || r.Form.Has("refresh_token") {
			t.Errorf("request %d: grant_type %q, refresh_token %q; want client_credentials and none", i, g, r.Form.Get("refresh_token"))
		}
	}
	for _, rec := range f.records(t, "proj") {
		if bytes.Contains(rec.Credentials, []byte(sentinelRefreshToken2)) {
			t.Errorf("the refreshed credentials keep the refresh token")
		}
	}
}

func TestConnectClientCredentialsErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		code     string // the ProviderError code, if any
	}{
		{name: "invalid_client", status: http.StatusUnauthorized, body: `{"error":"invalid_client"}`, sentinel: connect.ErrExchangeFailed, code: "invalid_client"},
		{name: "description echoing the secret", status: http.StatusUnauthorized,
			body: `{"error":"invalid_client","error_description":"secret ` + sentinelClientSecret + ` is wrong"}`, sentinel: connect.ErrExchangeFailed, code: "invalid_client"},
		{name: "HTML error page echoing the request", status: http.StatusBadGateway,
			body: "<html>client_secret=" + sentinelClientSecret + "&grant_type=client_credentials</html>", sentinel: connect.ErrExchangeFailed},
		{name: "200 with an error", status: http.StatusOK, body: `{"error":"unauthorized_client","secret":"` + sentinelClientSecret + `"}`,
			sentinel: connect.ErrExchangeFailed, code: "unauthorized_client"},
		{name: "no access token", status: http.StatusOK, body: `{"token_type":"Bearer","note":"` + sentinelClientSecret + `"}`, sentinel: connect.ErrExchangeFailed},
		{name: "MAC token type", status: http.StatusOK, body: `{"access_token":"` + sentinelAccessToken + `","token_type":"mac"}`, sentinel: connect.ErrExchangeFailed},
		{name: "invalid JSON", status: http.StatusOK, body: `{"access_token":"` + sentinelAccessToken, sentinel: connect.ErrExchangeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.setRespond(func(tokenRequest) (int, string) { return tt.status, tt.body })
			r := machineRequest()
			conn, err := f.c.Connect(context.Background(), r)
			if conn != nil || !errors.Is(err, tt.sentinel) {
				t.Fatalf("Connect = %v, %v; want no connection and %v", conn, err, tt.sentinel)
			}
			var pe *connect.ProviderError
			if tt.code != "" && (!errors.As(err, &pe) || pe.Code != tt.code) {
				t.Errorf("error %v carries no ProviderError with code %q", err, tt.code)
			}
			assertNoSecrets(t, "the error", err)
			assertNoSecrets(t, "the log", f.logs.String())
			if got := f.count(t, "proj"); got != 0 {
				t.Errorf("%d connections stored after a failed grant, want 0", got)
			}
			evs := f.events.all()
			if len(evs) != 1 || evs[0].Type != connect.EventConnectionError || evs[0].Connection != nil ||
				evs[0].ProjectID != "proj" || evs[0].Provider != "machine" || !errors.Is(evs[0].Err, tt.sentinel) {
				t.Errorf("events = %+v, want one connection.error for proj/machine without a connection", evs)
			}
			for _, ev := range evs {
				assertNoSecrets(t, "the event", fmt.Sprintf("%+v", ev))
			}
		})
	}
}

func TestConnectPasswordGrant(t *testing.T) {
	t.Run("provider without the grant", func(t *testing.T) {
		f := newFixture(t)
		f.srv.setRespond(answerToken(sentinelAccessToken, sentinelRefreshToken, 3600))
		r := connectionRequest("machine")
		r.OAuth2PasswordCredentials = &connect.OAuth2PasswordCredentials{
			Username: sentinelUsername, Password: sentinelUserPassword, ClientID: "pwd-client", ClientSecret: sentinelClientSecret,
		}
		conn, err := f.c.Connect(context.Background(), r)
		if conn != nil || !errors.Is(err, connect.ErrGrantNotAllowed) || !errors.Is(err, connect.ErrInvalidRequest) {
			t.Fatalf("Connect = %v, %v; want ErrGrantNotAllowed", conn, err)
		}
		assertField(t, err, "oauth2PasswordCredentials")
		assertNoSecrets(t, "the error", err)
		if f.srv.count() != 0 || f.count(t, "proj") != 0 {
			t.Errorf("%d token requests, %d connections; want none", f.srv.count(), f.count(t, "proj"))
		}
	})

	respond := func(r tokenRequest) (int, string) {
		switch {
		case r.Form.Get("grant_type") != "password" || r.ClientID != "pwd-client" || r.ClientSecret != sentinelClientSecret:
			return http.StatusUnauthorized, `{"error":"invalid_client"}`
		case r.Form.Get("username") != sentinelUsername || r.Form.Get("password") != sentinelUserPassword:
			return http.StatusBadRequest, `{"error":"invalid_grant","error_description":"wrong password ` + r.Form.Get("password") + ` for ` + r.Form.Get("username") + `"}`
		}
		return http.StatusOK, tokenJSON(sentinelAccessToken, sentinelRefreshToken, 3600)
	}
	for _, withKeyring := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyring=%t", withKeyring), func(t *testing.T) {
			f := newFixture(t, func(c *connect.Config) {
				if withKeyring {
					c.Keyring = newKeyring(t, "k1", "k1")
				}
			})
			f.srv.setRespond(respond)
			r := connectionRequest("pwd")
			r.OAuth2PasswordCredentials = &connect.OAuth2PasswordCredentials{
				Username: sentinelUsername, Password: sentinelUserPassword + "x", ClientID: "pwd-client", ClientSecret: sentinelClientSecret,
			}
			conn, err := f.c.Connect(context.Background(), r)
			if conn != nil || !errors.Is(err, connect.ErrExchangeFailed) {
				t.Fatalf("Connect with a wrong password = %v, %v; want ErrExchangeFailed", conn, err)
			}
			assertNoSecrets(t, "the error", err)
			if out := fmt.Sprintf("%+v", err); strings.Contains(out, sentinelUsername) {
				t.Errorf("the error names the username: %s", out)
			}
			if got := f.count(t, "proj"); got != 0 {
				t.Fatalf("%d connections after a refused password, want 0", got)
			}

			r.OAuth2PasswordCredentials.Password = sentinelUserPassword
			conn = f.connect(t, r)
			if conn.Status != connect.StatusWorking || conn.AuthScheme != connect.AuthSchemeOAuth2Password {
				t.Errorf("status %q, scheme %q; want %q, %q", conn.Status, conn.AuthScheme, connect.StatusWorking, connect.AuthSchemeOAuth2Password)
			}
			recs := f.records(t, "proj")
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			for _, rec := range recs {
				for _, s := range []string{sentinelUserPassword, sentinelUsername} {
					if bytes.Contains(rec.Credentials, []byte(s)) {
						t.Errorf("the stored credentials contain %s", s)
					}
				}
				j, _ := json.Marshal(rec)
				if bytes.Contains(j, []byte(sentinelUserPassword)) {
					t.Errorf("the record's JSON contains the password")
				}
			}
			logs := f.logs.String()
			for _, s := range []string{sentinelUserPassword, sentinelUsername, sentinelClientSecret, sentinelAccessToken, sentinelRefreshToken} {
				if strings.Contains(logs, s) {
					t.Errorf("the log contains %s:\n%s", s, logs)
				}
			}
			// The tokens work: the stored access token comes back without a request.
			ts, err := f.c.TokenSource(context.Background(), conn.ID)
			if err != nil {
				t.Fatalf("TokenSource: %v", err)
			}
			if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAccessToken {
				t.Errorf("Token = %v, %v; want %s", tok, err, sentinelAccessToken)
			}
			if got := f.srv.count(); got != 2 {
				t.Errorf("%d token requests, want 2 (the refused and the accepted grant)", got)
			}
		})
	}
}

func TestConnectImportTokens(t *testing.T) {
	ctx := context.Background()
	t.Run("access token only", func(t *testing.T) {
		f := newFixture(t)
		conn := f.connect(t, importRequest(sentinelAccessToken, "", f.clock.Now().Add(time.Hour)))
		if conn.AuthScheme != connect.AuthSchemeOAuth2AuthorizationCode || conn.Status != connect.StatusCreated {
			t.Errorf("scheme %q, status %q; want %q, %q", conn.AuthScheme, conn.Status, connect.AuthSchemeOAuth2AuthorizationCode, connect.StatusCreated)
		}
		ts, err := f.c.TokenSource(ctx, conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != sentinelAccessToken || !tok.Expiry.Equal(f.clock.Now().Add(time.Hour)) {
			t.Errorf("Token = %+v, %v; want the imported token expiring in an hour", tok, err)
		}
	})
	t.Run("refresh token without an app", func(t *testing.T) {
		f := newFixture(t)
		r := importRequest(sentinelAccessToken, sentinelRefreshToken, time.Time{})
		r.ProjectID = "noapp"
		conn, err := f.c.Connect(ctx, r)
		if conn != nil || !errors.Is(err, connect.ErrAppNotFound) {
			t.Fatalf("Connect = %v, %v; want ErrAppNotFound", conn, err)
		}
		assertField(t, err, "oauth2AuthorizationCode.refreshToken")
		assertNoSecrets(t, "the error", err)
		if got := f.count(t, "noapp"); got != 0 {
			t.Errorf("%d connections stored, want 0", got)
		}
	})
	t.Run("access token only without an app", func(t *testing.T) {
		f := newFixture(t)
		r := importRequest(sentinelAccessToken, "", time.Time{})
		r.ProjectID = "noapp"
		conn := f.connect(t, r)
		if conn.ProviderApp != nil {
			t.Errorf("ProviderApp = %+v, want none", conn.ProviderApp)
		}
	})
	t.Run("refresh uses the project's app", func(t *testing.T) {
		f := newFixture(t)
		f.srv.setRespond(func(r tokenRequest) (int, string) {
			if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != sentinelRefreshToken ||
				r.ClientID != "oauth-client" || r.ClientSecret != sentinelAppSecret {
				return http.StatusBadRequest, `{"error":"invalid_request"}`
			}
			return http.StatusOK, tokenJSON(sentinelAccessToken2, "", 3600)
		})
		conn := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(time.Hour)))
		if conn.ProviderApp == nil || conn.ProviderApp.ID != "oauth-app" || conn.ProviderApp.ClientID != "oauth-client" {
			t.Fatalf("ProviderApp = %+v, want oauth-app / oauth-client", conn.ProviderApp)
		}
		ts, err := f.c.TokenSource(ctx, conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAccessToken || f.srv.count() != 0 {
			t.Fatalf("Token before expiry = %v, %v after %d requests; want the imported token, no request", tok, err, f.srv.count())
		}
		f.clock.Advance(2 * time.Hour)
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != sentinelAccessToken2 {
			t.Fatalf("Token after expiry = %v, %v; want %s", tok, err, sentinelAccessToken2)
		}
		if got := f.srv.count(); got != 1 {
			t.Errorf("%d token requests, want 1", got)
		}
	})
}

func TestConnectUpsert(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := connectionRequest("keyed")
	r.APIKey = "first-key"
	first := f.connect(t, r)

	f.clock.Advance(time.Minute)
	r.APIKey = sentinelAPIKey
	second := f.connect(t, r)
	if second.ID != first.ID {
		t.Errorf("second Connect made connection %s, want the update of %s", second.ID, first.ID)
	}
	if !second.CreateTime.Equal(first.CreateTime) {
		t.Errorf("CreateTime = %v, want it kept at %v", second.CreateTime, first.CreateTime)
	}
	if !second.UpdateTime.Equal(first.UpdateTime.Add(time.Minute)) {
		t.Errorf("UpdateTime = %v, want %v", second.UpdateTime, first.UpdateTime.Add(time.Minute))
	}
	if cr, err := f.c.Credentials(ctx, "proj", first.ID); err != nil || cr.APIKey.Reveal() != sentinelAPIKey {
		t.Errorf("Credentials after the update: %v; want the new key", err)
	}
	if got := f.count(t, "proj"); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
	var types []connect.EventType
	for _, e := range f.events.all() {
		types = append(types, e.Type)
	}
	if diff := cmp.Diff([]connect.EventType{connect.EventConnectionCreated, connect.EventConnectionUpdated}, types); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	others := []struct {
		name string
		edit func(*connect.ConnectionRequest)
	}{
		{"another consumer", func(r *connect.ConnectionRequest) { r.ConsumerRef = "user-2" }},
		{"another group", func(r *connect.ConnectionRequest) { r.GroupRef = "group-2" }},
		{"another project", func(r *connect.ConnectionRequest) { r.ProjectID = "proj2" }},
	}
	for i, o := range others {
		r2 := connectionRequest("keyed")
		r2.APIKey = sentinelAPIKey
		o.edit(&r2)
		c := f.connect(t, r2)
		if c.ID == first.ID {
			t.Errorf("%s: Connect updated connection %s, want a new one", o.name, first.ID)
		}
		if got, want := f.count(t, "proj")+f.count(t, "proj2"), 2+i; got != want {
			t.Errorf("%s: %d connections, want %d", o.name, got, want)
		}
	}

	// Two workspaces of one provider are two connections.
	w := connectionRequest("wsp")
	w.APIKey = sentinelAPIKey
	w.ProviderWorkspaceRef = "acme"
	a := f.connect(t, w)
	w.ProviderWorkspaceRef = "other"
	b := f.connect(t, w)
	if a.ID == b.ID {
		t.Errorf("connections of two workspaces share id %s", a.ID)
	}
}

func TestConnectCredentialKindCount(t *testing.T) {
	tests := []struct {
		name string
		edit func(*connect.ConnectionRequest)
	}{
		{"none", func(*connect.ConnectionRequest) {}},
		{"apiKey and basicAuth", func(r *connect.ConnectionRequest) {
			r.APIKey = sentinelAPIKey
			r.BasicAuth = &connect.BasicAuth{Username: "u", Password: sentinelBasicPassword}
		}},
		{"apiKey and imported tokens", func(r *connect.ConnectionRequest) {
			r.APIKey = sentinelAPIKey
			r.OAuth2AuthorizationCode = &connect.OAuth2AuthorizationCode{AccessToken: &connect.TokenValue{Token: sentinelAccessToken}}
		}},
		{"client credentials and password", func(r *connect.ConnectionRequest) {
			r.OAuth2ClientCredentials = &connect.OAuth2ClientCredentials{ClientID: "c", ClientSecret: sentinelClientSecret}
			r.OAuth2PasswordCredentials = &connect.OAuth2PasswordCredentials{Username: "u", Password: sentinelUserPassword, ClientID: "c", ClientSecret: sentinelClientSecret}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := connectionRequest("keyed")
			tt.edit(&r)
			conn, err := f.c.Connect(context.Background(), r)
			if conn != nil {
				t.Errorf("Connect returned %+v", conn)
			}
			assertField(t, err, "credentials")
			f.assertRefused(t, err)
		})
	}
}

func TestConnectWorkspaceAndMetadata(t *testing.T) {
	tests := []struct {
		name      string
		provider  string
		workspace string
		metadata  connect.ProviderMetadata
		field     string // "" means success
		wantWS    string
		wantMD    connect.ProviderMetadata
	}{
		{name: "workspace missing", provider: "wsp", field: "providerWorkspaceRef"},
		{name: "hostile workspace", provider: "wsp", workspace: "evil.com#", field: "providerWorkspaceRef"},
		{name: "workspace with a dot", provider: "wsp", workspace: "a.b", field: "providerWorkspaceRef"},
		{name: "workspace given as metadata", provider: "wsp", metadata: connect.ProviderMetadata{"workspace": {Value: "acme"}}, field: "providerMetadata.workspace"},
		{name: "workspace for a provider without one", provider: "keyed", workspace: "acme", field: "providerWorkspaceRef"},
		{name: "unknown metadata", provider: "keyed", metadata: connect.ProviderMetadata{"region": {Value: "eu"}}, field: "providerMetadata.region"},
		{name: "metadata missing", provider: "acct", field: "providerMetadata.accountId"},
		{name: "metadata from a token source", provider: "acct", metadata: connect.ProviderMetadata{"accountId": {Value: "1", Source: "token"}}, field: "providerMetadata.accountId.source"},
		{name: "workspace normalised", provider: "wsp", workspace: "Acme", wantWS: "acme"},
		{name: "metadata kept", provider: "acct", metadata: connect.ProviderMetadata{"accountId": {Value: "1234567"}},
			wantMD: connect.ProviderMetadata{"accountId": {Value: "1234567", Source: "input"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := connectionRequest(tt.provider)
			r.APIKey = sentinelAPIKey
			r.ProviderWorkspaceRef = tt.workspace
			r.ProviderMetadata = tt.metadata
			conn, err := f.c.Connect(context.Background(), r)
			if tt.field != "" {
				if conn != nil {
					t.Errorf("Connect returned %+v", conn)
				}
				assertField(t, err, tt.field)
				f.assertRefused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.ProviderWorkspaceRef != tt.wantWS {
				t.Errorf("ProviderWorkspaceRef = %q, want %q", conn.ProviderWorkspaceRef, tt.wantWS)
			}
			if diff := cmp.Diff(tt.wantMD, conn.ProviderMetadata); diff != "" {
				t.Errorf("ProviderMetadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCredentialsNeverShowSecrets(t *testing.T) {
	f := newFixture(t)
	r := connectionRequest("custom")
	r.CustomAuth = map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme"}
	custom := f.connect(t, r)
	r = connectionRequest("basic")
	r.BasicAuth = &connect.BasicAuth{Username: "alice", Password: sentinelBasicPassword}
	basic := f.connect(t, r)
	r = connectionRequest("keyed")
	r.APIKey = sentinelAPIKey
	keyed := f.connect(t, r)
	for _, id := range []string{custom.ID, basic.ID, keyed.ID} {
		cr, err := f.c.Credentials(context.Background(), "proj", id)
		if err != nil {
			t.Fatal(err)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			assertNoSecrets(t, verb+" of Credentials", fmt.Sprintf(verb, cr))
			assertNoSecrets(t, verb+" of *Credentials", fmt.Sprintf(verb, *cr))
		}
		j, err := json.Marshal(cr)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecrets(t, "JSON of Credentials", string(j))
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("creds", "creds", cr)
		assertNoSecrets(t, "slog of Credentials", buf.String())
	}
}

func TestConnectStoreFailure(t *testing.T) {
	f := newFixture(t)
	f.conns.failPuts(0)
	r := connectionRequest("keyed")
	r.APIKey = sentinelAPIKey
	conn, err := f.c.Connect(context.Background(), r)
	if conn != nil || !errors.Is(err, connect.ErrStoreUnavailable) {
		t.Fatalf("Connect with a failing store = %v, %v; want ErrStoreUnavailable", conn, err)
	}
	f.assertRefused(t, err)
	evs := f.events.all()
	if len(evs) != 1 || evs[0].Type != connect.EventConnectionError || !errors.Is(evs[0].Err, connect.ErrStoreUnavailable) {
		t.Errorf("events = %+v, want one connection.error", evs)
	}
}
