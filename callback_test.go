package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

func TestCallback(t *testing.T) {
	f := newFixture(t)
	a := f.begin(t, func(r *connect.OAuthConnectRequest) { r.GroupName = "Acme Corp"; r.Scopes = []string{"read"} })
	conn, err := f.c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+a.State))
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if f.srv.count() != 1 {
		t.Fatalf("token requests = %d, want 1", f.srv.count())
	}
	form := f.srv.requests()[0].Form
	u, _ := url.Parse(a.URL)
	for k, want := range map[string]string{
		"grant_type": "authorization_code", "code": sentinelCode, "redirect_uri": u.Query().Get("redirect_uri"),
	} {
		if got := form.Get(k); got != want {
			t.Errorf("token request %s = %q, want %q", k, got, want)
		}
	}
	if form.Get("code_verifier") == "" || form.Has("client_secret") {
		t.Errorf("token request form %v: want a code_verifier and no client_secret in the body", form)
	}
	if got := f.srv.requests()[0].Authorization; !strings.HasPrefix(got, "Basic ") {
		t.Errorf("client authentication %q, want HTTP Basic", got)
	}
	want := &connect.Connection{
		ID: conn.ID, ProjectID: "proj", Provider: "acme",
		Group: connect.Group{Ref: "group-123", Name: "Acme Corp"}, Consumer: connect.Consumer{Ref: "user_123456", Name: "user_123456"},
		ProviderApp: &connect.ConnectionApp{ID: "acme-app", ClientID: "acme-client"},
		AuthScheme:  connect.AuthSchemeOAuth2AuthorizationCode, Status: connect.StatusWorking,
		Scopes: []string{"read", "write"}, CreateTime: f.clock.Now(), UpdateTime: f.clock.Now(),
	}
	if diff := diffConnections(want, conn); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
	if recs := f.records(t, "proj"); len(recs) != 1 || recs[0].Connection.ID != conn.ID {
		t.Fatalf("stored %d connections, want the one returned", len(recs))
	}
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != sentinelAccessToken || tok.RefreshToken != sentinelRefreshToken {
		t.Errorf("Token = %v, %v; want the exchanged tokens", tok, err)
	}
	if got := f.events.types(); len(got) != 1 || got[0] != connect.EventConnectionCreated {
		t.Errorf("events = %v, want [connection.created]", got)
	}
	assertNoSecrets(t, "the connection", conn)
	assertNoSecrets(t, "the log", f.logs.String())

	// The state is spent: a replay fails without a token request.
	_, err = f.c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+a.State))
	if !errors.Is(err, connect.ErrStateNotFound) {
		t.Errorf("replayed callback: %v, want ErrStateNotFound", err)
	}
	if f.srv.count() != 1 {
		t.Errorf("token requests after a replay = %d, want 1", f.srv.count())
	}
}

func diffConnections(want, got *connect.Connection) string {
	wj, _ := json.MarshalIndent(want, "", " ")
	gj, _ := json.MarshalIndent(got, "", " ")
	if bytes.Equal(wj, gj) {
		return ""
	}
	return "want " + string(wj) + "\ngot  " + string(gj)
}

func TestCallbackMalformedTouchesNoStore(t *testing.T) {
	valid := strings.Repeat("A", 43)
	tests := []struct {
		name  string
		req   *http.Request
		state bool // ErrInvalidState, else ErrMalformedCallback
	}{
		{"no state", callbackRequest("code=c"), true},
		{"empty state", callbackRequest("code=c&state="), true},
		{"two states", callbackRequest("code=c&state=" + valid + "&state=" + valid), true},
		{"long state", callbackRequest("code=c&state=" + strings.Repeat("A", 10<<10)), true},
		{"state of 129 octets", callbackRequest("code=c&state=" + strings.Repeat("A", 129)), true},
		{"query over 8 KiB", callbackRequest("code=c&state=" + valid + "&x=" + strings.Repeat("x", 8<<10)), false},
		{"state with NUL", callbackRequest("code=c&state=" + valid[:42] + "%00"), true},
		{"state with CRLF", callbackRequest("code=c&state=" + valid[:41] + "%0d%0a"), true},
		{"state too short", callbackRequest("code=c&state=abc"), true},
		{"code and error", callbackRequest("code=c&error=access_denied&state=" + valid), false},
		{"neither code nor error", callbackRequest("state=" + valid), false},
		{"two codes", callbackRequest("code=a&code=b&state=" + valid), false},
		{"code under two names", callbackRequest("code=a&spapi_oauth_code=b&state=" + valid), false},
		{"two codes under another name", callbackRequest("spapi_oauth_code=a&spapi_oauth_code=b&state=" + valid), false},
		{"code under another name and error", callbackRequest("spapi_oauth_code=a&error=access_denied&state=" + valid), false},
		{"code under another name too long", callbackRequest("spapi_oauth_code=" + strings.Repeat("c", 4097) + "&state=" + valid), false},
		{"code too long", callbackRequest("code=" + strings.Repeat("c", 4097) + "&state=" + valid), false},
		{"code with control character", callbackRequest("code=a%0Ab&state=" + valid), false},
		{"error with a quote", callbackRequest("error=a%22b&state=" + valid), false},
		{"bad escape", callbackRequest("code=%zz&state=" + valid), false},
		{"too many parameters", callbackRequest("code=c&state=" + valid + strings.Repeat("&x=1", 50)), false},
		{"POST", httptest.NewRequest(http.MethodPost, "https://api.example.com/cb?code=c&state="+valid, strings.NewReader("state=Y")), false},
		// A link prefetcher's HEAD must not spend the state of the user's own GET.
		{"HEAD", httptest.NewRequest(http.MethodHead, "https://api.example.com/cb?code=c&state="+valid, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.c.Callback(context.Background(), tt.req)
			want := connect.ErrMalformedCallback
			if tt.state {
				want = connect.ErrInvalidState
			}
			if !errors.Is(err, want) || !errors.Is(err, connect.ErrInvalidRequest) {
				t.Errorf("Callback = %v, want %v matching ErrInvalidRequest", err, want)
			}
			if f.states.callCount() != 0 || f.srv.count() != 0 {
				t.Errorf("store calls %d, token requests %d; want none", f.states.callCount(), f.srv.count())
			}
		})
	}
}

func TestCallbackStateLifetime(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		wantErr error
	}{
		{"just before expiry", connect.DefaultStateTTL - time.Second, nil},
		{"just after expiry", connect.DefaultStateTTL + time.Second, connect.ErrStateExpired},
		{"started in the future", -5 * time.Minute, connect.ErrStateExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The state store keeps records past their TTL, so that the library's own expiry
			// check is what is tested.
			f := newFixture(t, func(c *connect.Config) { c.States = staleStateStore() })
			a := f.begin(t)
			f.clock.Advance(tt.advance)
			_, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Callback = %v, want %v", err, tt.wantErr)
			}
			wantReq := 0
			if tt.wantErr == nil {
				wantReq = 1
			}
			if f.srv.count() != wantReq {
				t.Errorf("token requests = %d, want %d", f.srv.count(), wantReq)
			}
		})
	}
}

func TestCallbackBinding(t *testing.T) {
	csrf := func(r *connect.OAuthConnectRequest) { r.EnableCSRFProtection = true }
	t.Run("no cookie: refused and the state is spent", func(t *testing.T) {
		f := newFixture(t)
		a := f.begin(t, csrf)
		_, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State))
		if !errors.Is(err, connect.ErrStateBindingMismatch) {
			t.Fatalf("Callback = %v, want ErrStateBindingMismatch", err)
		}
		r := callbackRequest("code=c&state=" + a.State)
		r.AddCookie(&http.Cookie{Name: connect.BindingCookieName(a.State), Value: a.Binding.Reveal()})
		if _, err := f.c.Callback(context.Background(), r); !errors.Is(err, connect.ErrStateNotFound) {
			t.Errorf("retry with the cookie = %v, want ErrStateNotFound", err)
		}
		if f.srv.count() != 0 || len(f.records(t, "proj")) != 0 {
			t.Errorf("a refused binding led to %d token requests and %d connections", f.srv.count(), len(f.records(t, "proj")))
		}
	})
	t.Run("another browser's cookie", func(t *testing.T) {
		f := newFixture(t)
		a := f.begin(t, csrf)
		other := f.begin(t, csrf)
		r := callbackRequest("code=c&state=" + a.State)
		r.AddCookie(&http.Cookie{Name: connect.BindingCookieName(a.State), Value: other.Binding.Reveal()})
		if _, err := f.c.Callback(context.Background(), r); !errors.Is(err, connect.ErrStateBindingMismatch) {
			t.Errorf("Callback = %v, want ErrStateBindingMismatch", err)
		}
	})
	t.Run("the right cookie", func(t *testing.T) {
		f := newFixture(t)
		a := f.begin(t, csrf)
		r := callbackRequest("code=c&state=" + a.State)
		r.AddCookie(&http.Cookie{Name: connect.BindingCookieName(a.State), Value: a.Binding.Reveal()})
		if _, err := f.c.Callback(context.Background(), r); err != nil {
			t.Errorf("Callback: %v", err)
		}
	})
	t.Run("a forwarder's binding", func(t *testing.T) {
		f := newFixture(t)
		a := f.begin(t, csrf)
		if _, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State), connect.WithBinding(a.Binding.Reveal())); err != nil {
			t.Errorf("Callback: %v", err)
		}
	})
}

func TestCallbackIssuer(t *testing.T) {
	const iss = "https://auth.acme.example"
	withIssuer := func(p *providers.Provider) { p.Issuer = iss }
	tests := []struct {
		name    string
		edit    func(*providers.Provider)
		query   string
		wantErr error
	}{
		{"matching iss", withIssuer, "code=c&iss=" + url.QueryEscape(iss), nil},
		{"missing iss", withIssuer, "code=c", connect.ErrIssuerMismatch},
		{"other issuer", withIssuer, "code=c&iss=https%3A%2F%2Fevil.example", connect.ErrIssuerMismatch},
		{"trailing slash", withIssuer, "code=c&iss=" + url.QueryEscape(iss+"/"), connect.ErrIssuerMismatch},
		{"other case", withIssuer, "code=c&iss=HTTPS%3A%2F%2FAUTH.ACME.EXAMPLE", connect.ErrIssuerMismatch},
		{"two iss", withIssuer, "code=c&iss=" + url.QueryEscape(iss) + "&iss=" + url.QueryEscape(iss), connect.ErrMalformedCallback},
		{"error with a wrong iss is not trusted", withIssuer, "error=access_denied&iss=https%3A%2F%2Fevil.example", connect.ErrIssuerMismatch},
		{"iss ignored when the provider declares none", func(*providers.Provider) {}, "code=c&iss=https%3A%2F%2Fanything.example", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, editProvider(t, "acme", tt.edit))
			a := f.begin(t)
			_, err := f.c.Callback(context.Background(), callbackRequest(tt.query+"&state="+a.State))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Callback = %v, want %v", err, tt.wantErr)
			}
			if errors.Is(err, connect.ErrAccessDenied) {
				t.Errorf("an error response with a wrong iss was surfaced")
			}
			if tt.wantErr != nil && f.srv.count() != 0 {
				t.Errorf("token requests = %d, want 0", f.srv.count())
			}
		})
	}
}

func TestCallbackProviderError(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		want   connect.ProviderError
		denied bool
	}{
		{"access denied with markup", "error=access_denied&error_description=" + url.QueryEscape("<script>alert(1)</script>\r\nX:1"),
			connect.ProviderError{Code: "access_denied", Description: "scriptalert(1)/scriptX:1"}, true},
		{"long description capped", "error=server_error&error_description=" + strings.Repeat("d", 5000),
			connect.ProviderError{Code: "server_error", Description: strings.Repeat("d", 512)}, false},
		{"javascript error_uri dropped", "error=invalid_scope&error_uri=javascript%3Aalert(1)",
			connect.ProviderError{Code: "invalid_scope"}, false},
		{"https error_uri kept", "error=invalid_scope&error_uri=https%3A%2F%2Facme.example%2Fhelp",
			connect.ProviderError{Code: "invalid_scope", URI: "https://acme.example/help"}, false},
		{"unknown code", "error=foo", connect.ProviderError{Code: "foo"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			a := f.begin(t)
			_, err := f.c.Callback(context.Background(), callbackRequest(tt.query+"&state="+a.State))
			var pe *connect.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("Callback = %v, want a *ProviderError", err)
			}
			if *pe != tt.want {
				t.Errorf("ProviderError = %+v, want %+v", *pe, tt.want)
			}
			if errors.Is(err, connect.ErrAccessDenied) != tt.denied {
				t.Errorf("errors.Is(err, ErrAccessDenied) = %v, want %v", !tt.denied, tt.denied)
			}
			if f.srv.count() != 0 || len(f.records(t, "proj")) != 0 {
				t.Errorf("a provider error led to a token request or a connection")
			}
			if _, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State)); !errors.Is(err, connect.ErrStateNotFound) {
				t.Errorf("the state survived a provider error: %v", err)
			}
		})
	}
}

func TestCallbackTokenEndpointFailures(t *testing.T) {
	other := newTokenServer(t)
	tests := []struct {
		name        string
		status      int
		body        string
		contentType string // "" means application/json
		location    string // the answer's Location header
		want        error
		wantCode    string
	}{
		{name: "invalid_grant", status: http.StatusBadRequest,
			body: `{"error":"invalid_grant","error_description":"code ` + sentinelCode + ` is spent; secret ` + sentinelAppSecret + `"}`,
			want: connect.ErrExchangeFailed, wantCode: "invalid_grant"},
		{name: "error in a 200", status: http.StatusOK, body: `{"error":"bad_verification_code"}`,
			want: connect.ErrExchangeFailed, wantCode: "bad_verification_code"},
		{name: "HTML 502 echoing the request", status: http.StatusBadGateway, body: "<html>bad gateway: ECHO</html>",
			contentType: "text/html", want: connect.ErrExchangeFailed},
		{name: "invalid JSON", status: http.StatusOK, body: `{"access_token": "` + sentinelAccessToken, want: connect.ErrExchangeFailed},
		{name: "no access token", status: http.StatusOK, body: `{"token_type":"Bearer"}`, want: connect.ErrExchangeFailed},
		{name: "mac token", status: http.StatusOK, body: `{"access_token":"` + sentinelAccessToken + `","token_type":"mac"}`,
			want: connect.ErrExchangeFailed},
		{name: "2 MiB response", status: http.StatusOK, body: `{"access_token":"` + strings.Repeat("a", 2<<20) + `"}`,
			want: connect.ErrExchangeFailed},
		{name: "307 to another host", status: http.StatusTemporaryRedirect, location: other.URL, want: connect.ErrUnexpectedRedirect},
		{name: "302 to another host", status: http.StatusFound, location: other.URL, want: connect.ErrUnexpectedRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.setHeader("Content-Type", tt.contentType)
			f.srv.setHeader("Location", tt.location)
			f.srv.setRespond(func(r tokenRequest) (int, string) {
				// ECHO stands for the request's form and client authentication.
				return tt.status, strings.ReplaceAll(tt.body, "ECHO", r.Form.Encode()+" "+r.Authorization)
			})
			a := f.begin(t)
			conn, err := f.c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+a.State))
			if conn != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Callback = %v, %v; want %v", conn, err, tt.want)
			}
			var pe *connect.ProviderError
			if tt.wantCode != "" && (!errors.As(err, &pe) || pe.Code != tt.wantCode) {
				t.Errorf("error %v does not carry provider code %s", err, tt.wantCode)
			}
			if len(f.records(t, "proj")) != 0 {
				t.Errorf("a failed exchange stored a connection")
			}
			if f.srv.count() != 1 || other.count() != 0 {
				t.Errorf("token requests %d here and %d at the other host; want 1 and 0", f.srv.count(), other.count())
			}
			assertNoSecrets(t, "the error", err)
			assertNoSecrets(t, "the log", f.logs.String())
			if got := f.events.types(); len(got) != 1 || got[0] != connect.EventConnectionError {
				t.Errorf("events = %v, want [connection.error]", got)
			}
		})
	}
}

func TestCallbackConcurrentSameState(t *testing.T) {
	f := newFixture(t)
	a := f.begin(t)
	var wg sync.WaitGroup
	var ok, notFound atomic.Int64
	for range 64 {
		wg.Go(func() {
			_, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, connect.ErrStateNotFound):
				notFound.Add(1)
			default:
				t.Errorf("Callback: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || notFound.Load() != 63 || f.srv.count() != 1 || len(f.records(t, "proj")) != 1 {
		t.Errorf("successes %d, not found %d, token requests %d, connections %d; want 1, 63, 1, 1",
			ok.Load(), notFound.Load(), f.srv.count(), len(f.records(t, "proj")))
	}
}

func TestCallbackReauthorizationUpdates(t *testing.T) {
	f := newFixture(t)
	first, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	second, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || !second.CreateTime.Equal(first.CreateTime) || !second.UpdateTime.After(first.UpdateTime) {
		t.Errorf("re-authorization gave %+v after %+v; want the same connection, updated", second, first)
	}
	if n := len(f.records(t, "proj")); n != 1 {
		t.Errorf("%d connections stored, want 1", n)
	}
	if got := f.events.types(); len(got) != 2 || got[1] != connect.EventConnectionUpdated {
		t.Errorf("events = %v, want created then updated", got)
	}
	// Another consumer gets a connection of its own.
	third, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t, func(r *connect.OAuthConnectRequest) { r.ConsumerRef = "other" }).State))
	if err != nil || third.ID == first.ID {
		t.Errorf("another consumer: %v, %v", third, err)
	}
}

func TestCallbackTokenMetadata(t *testing.T) {
	withInstance := func(p *providers.Provider) {
		p.Hosts = metadata.Hosts{"127.0.0.1", "*.my.salesforce.com"}
		p.TokenMetadata = []providers.TokenField{{Field: "instance_url", Name: "instanceUrl", URL: true}}
	}
	for _, tt := range []struct {
		name, instance string
		ok             bool
	}{
		{"on the provider's hosts", "https://acme.my.salesforce.com", true},
		{"metadata service", "https://169.254.169.254/latest", false},
		{"other host", "https://evil.example", false},
		{"suffix trick", "https://acme.my.salesforce.com.evil.example", false},
		{"plain http", "http://acme.my.salesforce.com", false},
		{"user info", "https://x@acme.my.salesforce.com", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, editProvider(t, "acme", withInstance))
			f.srv.setRespond(func(tokenRequest) (int, string) {
				return http.StatusOK, fmt.Sprintf(`{"access_token":"at","token_type":"Bearer","instance_url":%q}`, tt.instance)
			})
			conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := conn.ProviderMetadata["instanceUrl"]; got.Value != tt.instance || got.Source != "token" {
					t.Errorf("instanceUrl = %+v", got)
				}
				return
			}
			if !errors.Is(err, connect.ErrExchangeFailed) || len(f.records(t, "proj")) != 0 {
				t.Errorf("Callback = %v with %d stored; want ErrExchangeFailed and nothing stored", err, len(f.records(t, "proj")))
			}
		})
	}
}

// Token response values other than strings are kept when they are whole numbers (Polar's
// x_user_id), and ignored otherwise.
func TestCallbackTokenMetadataNumbers(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`12345678`, "12345678"},
		{`"abc"`, "abc"},
		{`-7`, "-7"},
		{`1.5`, ""},
		{`1e300`, ""},
		{`true`, ""},
		{`{"id":1}`, ""},
		{`null`, ""},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			f := newFixture(t, editProvider(t, "acme", func(p *providers.Provider) {
				p.TokenMetadata = []providers.TokenField{{Field: "x_user_id", Name: "userId"}}
			}))
			f.srv.setRespond(func(tokenRequest) (int, string) {
				return http.StatusOK, `{"access_token":"at","token_type":"Bearer","x_user_id":` + tc.raw + `}`
			})
			conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
			if err != nil {
				t.Fatal(err)
			}
			if got := conn.ProviderMetadata["userId"].Value; got != tc.want {
				t.Errorf("userId = %q, want %q", got, tc.want)
			}
		})
	}
}

// The code is exchanged at the token endpoint saved with the flow, even if the provider's
// definition changes before the callback.
func TestCallbackUsesTheStoredTokenEndpoint(t *testing.T) {
	f := newFixture(t)
	a := f.begin(t)
	other := newTokenServer(t)
	if err := f.cfg.Providers.Register(&providers.Provider{Name: "acme", AuthURL: other.srv.URL + "/authorize", TokenURL: other.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Callback(context.Background(), callbackRequest("code=c&subdomain=evil&state="+a.State)); err != nil {
		t.Fatal(err)
	}
	if f.srv.count() != 1 || other.count() != 0 {
		t.Errorf("token requests: stored endpoint %d, new endpoint %d; want 1 and 0", f.srv.count(), other.count())
	}
}

func TestCallbackSaveFailure(t *testing.T) {
	f := newFixture(t)
	f.conns.failPuts(0)
	a := f.begin(t)
	conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State))
	if conn != nil || !errors.Is(err, connect.ErrStoreUnavailable) {
		t.Errorf("Callback = %v, %v; want no connection and ErrStoreUnavailable", conn, err)
	}
}

func TestCallbackWithKeyringStoresCiphertext(t *testing.T) {
	f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
	conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range f.records(t, "proj") {
		dump := fmt.Sprintf("%+v %s", rec, rec.Credentials)
		if strings.Contains(dump, sentinelAccessToken) || strings.Contains(dump, sentinelRefreshToken) {
			t.Errorf("the stored record shows a token")
		}
	}
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAccessToken {
		t.Errorf("Token = %v, %v", tok, err)
	}
	assertNoSecrets(t, "the log", f.logs.String())
}

func TestCallbackStoreFailuresFailClosed(t *testing.T) {
	f := newFixture(t)
	a := f.begin(t)
	f.states.fail(errors.New("connection reset"))
	if _, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State)); !errors.Is(err, connect.ErrStoreUnavailable) {
		t.Errorf("Callback with a failing store = %v, want ErrStoreUnavailable", err)
	}
	if f.srv.count() != 0 || len(f.records(t, "proj")) != 0 {
		t.Errorf("a failing state store led to a token request or a connection")
	}
	// A record past its TTL that the store still returns is refused on connect's clock.
	f = newFixture(t, func(c *connect.Config) { c.States = staleStateStore() })
	a = f.begin(t)
	f.clock.Advance(time.Hour)
	if _, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State)); !errors.Is(err, connect.ErrStateExpired) {
		t.Errorf("Callback with a stale record = %v, want ErrStateExpired", err)
	}
}

// Two first-time flows of one consumer that complete at once make one connection, not two.
func TestCallbackConcurrentFirstConnections(t *testing.T) {
	// Every callback looks for an existing connection before any of them saves one.
	f := newFixture(t)
	f.conns.setListDelay(50 * time.Millisecond)
	var states []string
	for range 20 {
		states = append(states, f.begin(t).State)
	}
	var wg sync.WaitGroup
	for _, st := range states {
		wg.Go(func() {
			if _, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+st)); err != nil {
				t.Errorf("Callback: %v", err)
			}
		})
	}
	wg.Wait()
	if n := len(f.records(t, "proj")); n != 1 {
		t.Errorf("%d connections for one consumer, want 1", n)
	}
}

func TestCallbackSendsTheProvidersTokenParams(t *testing.T) {
	f := newFixture(t, editProvider(t, "acme", func(p *providers.Provider) { p.TokenParams = map[string]string{"expiring": "1"} }))
	if _, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State)); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.requests()[0].Form.Get("expiring"); got != "1" || f.srv.requests()[0].Form.Get("grant_type") != "authorization_code" {
		t.Errorf("token request %v: want expiring=1 beside the standard parameters", f.srv.requests()[0].Form)
	}
}

// TestCallbackCodeParam: a provider that gives the code under its own name (Amazon Selling
// Partner's spapi_oauth_code) has it exchanged, and no code is taken under a name that is not
// its provider's.
func TestCallbackCodeParam(t *testing.T) {
	spapi := func(p *providers.Provider) { p.CodeParam = "spapi_oauth_code" }
	for _, tt := range []struct {
		name, provider, param string
		edit                  func(*providers.Provider)
		ok                    bool
	}{
		{name: "the provider's own name", param: "spapi_oauth_code", edit: spapi, ok: true},
		{name: "code, for a provider with its own name", param: "code", edit: spapi},
		{name: "another name, for a provider of code", param: "spapi_oauth_code", edit: func(*providers.Provider) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, editProvider(t, "acme", tt.edit))
			_, err := f.c.Callback(context.Background(), callbackRequest(tt.param+"="+sentinelCode+"&state="+f.begin(t).State))
			if !tt.ok {
				if !errors.Is(err, connect.ErrMalformedCallback) || f.srv.count() != 0 || len(f.records(t, "proj")) != 0 {
					t.Errorf("Callback = %v with %d token requests, %d stored; want ErrMalformedCallback and neither",
						err, f.srv.count(), len(f.records(t, "proj")))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if reqs := f.srv.requests(); len(reqs) != 1 || reqs[0].Form.Get("code") != sentinelCode || reqs[0].Form.Has("spapi_oauth_code") {
				t.Errorf("token requests %v: want one redeeming the code as code", reqs)
			}
		})
	}
}

// TestClientIDParam: for a provider that names the client id otherwise (TikTok's
// client_key), the authorize URL, the code exchange, the refresh and the revocation carry it
// under that name only.
func TestClientIDParam(t *testing.T) {
	f := newFixture(t, editProvider(t, "acme", func(p *providers.Provider) {
		p.ClientIDParam, p.TokenAuth = "client_key", providers.TokenAuthParams
		p.RevocationURL = strings.TrimSuffix(p.TokenURL, "/token") + "/revoke"
	}))
	a, _, q := f.start(t, oauthRequest("acme"))
	if q.Get("client_key") == "" || q.Has("client_id") {
		t.Errorf("authorize query %v: want the client id as client_key only", q)
	}
	f.srv.setRespond(answerGrants)
	conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Refresh(context.Background(), "proj", conn.ID); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := f.c.DeleteConnection(context.Background(), "proj", conn.ID); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	reqs := f.srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests at the provider, want the exchange, the refresh and the revocation", len(reqs))
	}
	for _, r := range reqs {
		if r.Form.Get("client_key") == "" || r.Form.Has("client_id") || r.Form.Get("client_secret") == "" || r.Basic {
			t.Errorf("%s request %v: want the client id as client_key beside the secret, in the body", r.Path, r.Form)
		}
	}
}

// TestAuthorizeURLInputParams: a fixed authorize parameter may carry an input's value (Amazon
// Selling Partner's application_id), escaped, and is left out when the input has none.
func TestAuthorizeURLInputParams(t *testing.T) {
	edit := editProvider(t, "acme", func(p *providers.Provider) {
		p.Inputs = []metadata.Input{{Name: "applicationId", Kind: metadata.Enum, Values: []string{"a b&c=d", "x"}, Optional: true}}
		p.AuthParams = map[string]string{"application_id": "{{applicationId}}"}
	})
	for _, tt := range []struct {
		name string
		md   connect.ProviderMetadata
		want []string
	}{
		{"given", connect.ProviderMetadata{"applicationId": {Value: "a b&c=d"}}, []string{"a b&c=d"}},
		{"absent", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, edit)
			req := oauthRequest("acme")
			req.ProviderMetadata = tt.md
			_, _, q := f.start(t, req)
			if got := q["application_id"]; !slices.Equal(got, tt.want) {
				t.Errorf("application_id = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCallbackFixesRefreshURL: a provider's refresh URL is fixed when the flow starts, kept
// with the connection, and its refreshes go there.
func TestCallbackFixesRefreshURL(t *testing.T) {
	f := newFixture(t, editProvider(t, "acme", func(p *providers.Provider) { p.RefreshURL = strings.TrimSuffix(p.TokenURL, "/token") + "/refresh" }))
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		switch r.Path {
		case "/refresh":
			return http.StatusOK, `{"access_token":"refreshed","token_type":"Bearer","expires_in":3600}`
		case "/token":
			return http.StatusOK, tokenJSON(sentinelAccessToken, sentinelRefreshToken, 3600)
		}
		return http.StatusNotFound, `{"error":"not_found"}`
	})
	a := f.begin(t)
	conn, err := f.c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+a.State))
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	f.clock.Advance(2 * time.Hour)
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	refreshes := 0
	for _, r := range f.srv.requests() {
		if r.Path == "/refresh" {
			refreshes++
		}
	}
	if err != nil || tok.AccessToken != "refreshed" || refreshes != 1 {
		t.Errorf("Token = %v, %v after %d requests to the refresh URL; want the refreshed token after 1", tok, err, refreshes)
	}
	if tok != nil && tok.RefreshToken != sentinelRefreshToken {
		t.Errorf("refresh token %q, want the original kept", tok.RefreshToken)
	}
}

// hostileErrorFields are error responses whose fields echo a secret of the request (SECRET
// stands for one, ESCSECRET for one with its first byte percent-encoded) or carry what a page
// must not render. want is the *ProviderError connect makes of them; at the callback,
// malformed cases are refused before any store is touched.
var hostileErrorFields = []struct {
	name            string
	code, desc, uri string
	want            connect.ProviderError
	malformed       bool // at the callback
}{
	{name: "secret as the error", code: "SECRET", want: connect.ProviderError{Code: "_"}},
	{name: "secret in the error", code: "invalid_grant:SECRET", want: connect.ProviderError{Code: "invalid_grant__"}},
	{name: "secret in the description", code: "invalid_grant", desc: "code SECRET is spent",
		want: connect.ProviderError{Code: "invalid_grant", Description: "code [redacted] is spent"}},
	{name: "secret in error_uri", code: "invalid_grant", uri: "https://acme.example/help?c=SECRET",
		want: connect.ProviderError{Code: "invalid_grant"}},
	{name: "escaped secret in error_uri", code: "invalid_grant", uri: "https://acme.example/help/ESCSECRET",
		want: connect.ProviderError{Code: "invalid_grant"}},
	{name: "markup", code: "<script>alert(1)</script>", desc: "<b>bold</b> & 'quoted'",
		want: connect.ProviderError{Code: "_script_alert_1___script_", Description: "bbold/b  quoted"}},
	{name: "control characters", code: "invalid\x00grant\r\n", desc: "a\x01b\r\nc", uri: "https://acme.example/\r\nx",
		want: connect.ProviderError{Code: "invalid_grant__", Description: "abc"}, malformed: true},
	{name: "over-long values", code: strings.Repeat("e", 1000), desc: strings.Repeat("d", 5000), uri: "https://acme.example/" + strings.Repeat("u", 5000),
		want: connect.ProviderError{Code: strings.Repeat("e", 64), Description: strings.Repeat("d", 512)}, malformed: true},
	{name: "http error_uri", code: "invalid_scope", uri: "http://acme.example/help", want: connect.ProviderError{Code: "invalid_scope"}},
	{name: "javascript error_uri", code: "invalid_scope", uri: "javascript:alert(document.cookie)", want: connect.ProviderError{Code: "invalid_scope"}},
	{name: "https error_uri kept", code: "invalid_scope", uri: "https://acme.example/help?topic=scopes",
		want: connect.ProviderError{Code: "invalid_scope", URI: "https://acme.example/help?topic=scopes"}},
}

// echoSecret writes the secret into a hostile field.
func echoSecret(field, secret string) string {
	field = strings.ReplaceAll(field, "ESCSECRET", fmt.Sprintf("%%%02X", secret[0])+secret[1:])
	return strings.ReplaceAll(field, "SECRET", secret)
}

// requestSecrets are the secrets a token request carries, in a fixed order.
func requestSecrets(r tokenRequest) []string {
	var out []string
	for _, k := range []string{"code", "code_verifier", "refresh_token", "password", "client_secret"} {
		if v := r.Form.Get(k); v != "" {
			out = append(out, v)
		}
	}
	if r.Basic {
		out = append(out, r.ClientSecret)
	}
	return out
}

// assertSafeError checks that err carries want as its *ProviderError and that none of the
// secrets shows in any rendering of err or of the *ProviderError.
func assertSafeError(t *testing.T, err error, want connect.ProviderError, secrets []string) {
	t.Helper()
	var pe *connect.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v carries no *ProviderError", err)
	}
	if *pe != want {
		t.Errorf("ProviderError = %+v, want %+v", *pe, want)
	}
	assertNoSecrets(t, "the error", err, secrets...)
	assertNoSecrets(t, "the ProviderError", pe, secrets...)
}

// TestTokenEndpointErrorsKeepNoSecrets: whatever a token endpoint's error echoes of the request,
// at code exchange, refresh and the client credentials and password grants, the error connect
// returns holds no secret of the request, and its fields are safe to render.
func TestTokenEndpointErrorsKeepNoSecrets(t *testing.T) {
	grants := []struct {
		name string
		// run sets the token endpoint up with hostile and makes one request that it answers.
		run func(t *testing.T, f *fixture, hostile func(tokenRequest) (int, string)) error
	}{
		{"code exchange", func(t *testing.T, f *fixture, hostile func(tokenRequest) (int, string)) error {
			f.srv.setRespond(hostile)
			_, err := f.c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+f.begin(t).State))
			return err
		}},
		{"refresh", func(t *testing.T, f *fixture, hostile func(tokenRequest) (int, string)) error {
			conn, err := f.c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+f.begin(t).State))
			if err != nil {
				t.Fatal(err)
			}
			f.srv.setRespond(hostile)
			f.clock.Advance(2 * time.Hour)
			ts, err := f.c.TokenSource(context.Background(), conn.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ts.Token()
			return err
		}},
		{"client credentials", func(t *testing.T, f *fixture, hostile func(tokenRequest) (int, string)) error {
			f.srv.setRespond(hostile)
			r := connect.ConnectionRequest{ProjectID: "proj", Provider: "acme", GroupRef: "g", ConsumerRef: "u",
				OAuth2ClientCredentials: &connect.OAuth2ClientCredentials{ClientID: "machine", ClientSecret: sentinelClientSecret}}
			_, err := f.c.Connect(context.Background(), r)
			return err
		}},
		{"password", func(t *testing.T, f *fixture, hostile func(tokenRequest) (int, string)) error {
			f.srv.setRespond(hostile)
			r := connect.ConnectionRequest{ProjectID: "proj", Provider: "acme", GroupRef: "g", ConsumerRef: "u",
				OAuth2PasswordCredentials: &connect.OAuth2PasswordCredentials{Username: "jane", Password: sentinelUserPassword,
					ClientID: "pwd-client", ClientSecret: sentinelClientSecret}}
			_, err := f.c.Connect(context.Background(), r)
			return err
		}},
	}
	allGrants := func(p *providers.Provider) {
		p.AuthKinds = []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.OAuth2ClientCredentials, providers.OAuth2PasswordCredentials}
	}
	for _, g := range grants {
		for _, tt := range hostileErrorFields {
			// Each secret of the request in turn (a request carries up to three).
			for i := range 3 {
				t.Run(fmt.Sprintf("%s/%s/%d", g.name, tt.name, i), func(t *testing.T) {
					f := newFixture(t, editProvider(t, "acme", allGrants))
					var mu sync.Mutex
					var secrets []string
					hostile := func(r tokenRequest) (int, string) {
						got := requestSecrets(r)
						mu.Lock()
						secrets = got
						mu.Unlock()
						secret := got[i%len(got)]
						body, _ := json.Marshal(map[string]string{
							"error": echoSecret(tt.code, secret), "error_description": echoSecret(tt.desc, secret), "error_uri": echoSecret(tt.uri, secret),
						})
						return http.StatusBadRequest, string(body)
					}
					err := g.run(t, f, hostile)
					if !errors.Is(err, connect.ErrExchangeFailed) {
						t.Fatalf("error %v, want ErrExchangeFailed", err)
					}
					mu.Lock()
					defer mu.Unlock()
					if len(secrets) == 0 {
						t.Fatal("the token endpoint saw no secret")
					}
					assertSafeError(t, err, tt.want, append(secrets, sentinelAppSecret, sentinelCode, sentinelRefreshToken, sentinelAccessToken))
					if strings.Contains(f.logs.String(), secrets[i%len(secrets)]) {
						t.Errorf("the logs show a secret")
					}
				})
			}
		}
	}
}

// TestCallbackErrorsKeepNoSecrets: an error response at the callback is cleaned as a token
// endpoint's is, and echoes none of the flow's secrets: its state, its browser binding, its
// verifier, or the secret of its app.
func TestCallbackErrorsKeepNoSecrets(t *testing.T) {
	for _, tt := range hostileErrorFields {
		for _, which := range []string{"state", "binding", "verifier", "client secret"} {
			t.Run(tt.name+"/"+which, func(t *testing.T) {
				f := newFixture(t)
				a := f.begin(t, func(r *connect.OAuthConnectRequest) { r.EnableCSRFProtection = true })
				verifier, _, _, _, err := connect.SessionFields(f.states.saved[state.Key(a.State)])
				if err != nil {
					t.Fatal(err)
				}
				secret := map[string]string{"state": a.State, "binding": a.Binding.Reveal(), "verifier": verifier, "client secret": sentinelAppSecret}[which]
				q := url.Values{"state": {a.State}, "error": {echoSecret(tt.code, secret)}}
				if tt.desc != "" {
					q.Set("error_description", echoSecret(tt.desc, secret))
				}
				if tt.uri != "" {
					q.Set("error_uri", echoSecret(tt.uri, secret))
				}
				r := callbackRequest(q.Encode())
				r.AddCookie(&http.Cookie{Name: connect.BindingCookieName(a.State), Value: a.Binding.Reveal()})
				_, err = f.c.Callback(context.Background(), r)
				if tt.malformed {
					if !errors.Is(err, connect.ErrMalformedCallback) {
						t.Fatalf("Callback = %v, want ErrMalformedCallback", err)
					}
					return
				}
				assertSafeError(t, err, tt.want, []string{a.State, a.Binding.Reveal(), verifier, sentinelAppSecret})
				if f.srv.count() != 0 || len(f.records(t, "proj")) != 0 {
					t.Errorf("a provider error led to a token request or a connection")
				}
			})
		}
	}
}

// TestCallbackExpiresIn: connect reads expires_in itself (x/oauth2 keeps it in an int32 that
// wraps): negative means expired at once, a huge value is clamped to a year, anything but a
// whole number of seconds fails the exchange and saves nothing.
func TestCallbackExpiresIn(t *testing.T) {
	const year = 365 * 24 * time.Hour
	tests := []struct {
		name        string
		contentType string
		expiresIn   string // the raw value; "" leaves it out
		wantErr     bool
		wantValid   time.Duration // from the clock; -1: expired at once, 0: unknown
	}{
		{"number", "json", `3600`, false, time.Hour},
		{"string", "json", `"3600"`, false, time.Hour},
		{"absent", "json", ``, false, 0},
		{"null", "json", `null`, false, 0},
		{"zero", "json", `0`, false, 0},
		{"negative", "json", `-1`, false, -1},
		{"negative beyond int32", "json", `-2147483649`, false, -1},
		{"negative string beyond int32", "json", `"-2147483649"`, false, -1},
		{"above int32", "json", `2147483648`, false, year},
		{"a year", "json", `31536000`, false, year},
		{"just above a year", "json", `31536001`, false, year},
		{"not a number", "json", `"abc"`, true, 0},
		{"boolean", "json", `true`, true, 0},
		{"object", "json", `{}`, true, 0},
		{"fraction", "json", `3600.5`, true, 0},
		{"exponent", "json", `1e400`, true, 0},
		{"form number", "form", `3600`, false, time.Hour},
		{"form negative beyond int32", "form", `-2147483649`, false, -1},
		{"form beyond int64", "form", `99999999999999999999`, false, year},
		{"form not a number", "form", `abc`, true, 0},
		{"form NaN", "form", `NaN`, true, 0},
		{"form fraction", "form", `3600.5`, true, 0},
		{"form empty", "form", ``, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var exchanged atomic.Bool
			if tt.contentType == "form" {
				f.srv.setHeader("Content-Type", "application/x-www-form-urlencoded")
			}
			f.srv.setRespond(func(r tokenRequest) (int, string) {
				refresh := r.Form.Get("grant_type") == "refresh_token" || exchanged.Swap(true)
				switch {
				case refresh && tt.contentType == "form":
					return http.StatusOK, "access_token=refreshed&token_type=bearer&expires_in=3600"
				case refresh:
					return http.StatusOK, `{"access_token":"refreshed","token_type":"Bearer","expires_in":3600}`
				case tt.contentType == "form":
					return http.StatusOK, "access_token=at&token_type=bearer&refresh_token=rt&expires_in=" + tt.expiresIn
				}
				body := `{"access_token":"at","token_type":"Bearer","refresh_token":"rt"`
				if tt.expiresIn != "" {
					body += `,"expires_in":` + tt.expiresIn
				}
				return http.StatusOK, body + `}`
			})
			conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
			if tt.wantErr {
				if conn != nil || !errors.Is(err, connect.ErrExchangeFailed) || len(f.records(t, "proj")) != 0 {
					t.Fatalf("Callback = %v, %v with %d stored; want ErrExchangeFailed and nothing stored", conn, err, len(f.records(t, "proj")))
				}
				if f.srv.count() != 1 {
					t.Errorf("token requests = %d, want 1", f.srv.count())
				}
				return
			}
			if err != nil {
				t.Fatalf("Callback: %v", err)
			}
			ts, err := f.c.TokenSource(context.Background(), conn.ID)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ts.Token()
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tt.wantValid == -1 {
				if tok.AccessToken != "refreshed" || f.srv.count() != 2 {
					t.Errorf("Token = %q after %d token requests; want an expired token refreshed at once", tok.AccessToken, f.srv.count())
				}
				return
			}
			var want time.Time
			if tt.wantValid != 0 {
				want = f.clock.Now().Add(tt.wantValid)
			}
			if tok.AccessToken != "at" || !tok.Expiry.Equal(want) {
				t.Errorf("Token %q expires %v, want %q expiring %v", tok.AccessToken, tok.Expiry, "at", want)
			}
		})
	}
}

// FuzzCallbackQuery sends arbitrary queries to the callback of a pending flow: it never
// panics, and a callback refused as malformed never reaches the token endpoint.
func FuzzCallbackQuery(f *testing.F) {
	for _, q := range []string{
		"code=c&state=STATE", "code=c&state=STATE&state=STATE", "error=access_denied&state=STATE",
		"code=c&error=x&state=STATE", "state=STATE", "code=%zz&state=STATE", "code=c&state=STATE&iss=https%3A%2F%2Fa",
		"error=a&error_description=%3Cscript%3E&error_uri=javascript:x&state=STATE", "code=c;state=STATE",
		"spapi_oauth_code=c&state=STATE", "code=c&spapi_oauth_code=c&state=STATE",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		fx := newFixture(t)
		a := fx.begin(t)
		query = strings.ReplaceAll(query, "STATE", a.State)
		r, err := http.NewRequest(http.MethodGet, "https://api.example.com/cb", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.URL.RawQuery = query
		conn, err := fx.c.Callback(context.Background(), r)
		switch {
		case err == nil:
			if conn == nil || fx.srv.count() != 1 {
				t.Fatalf("success with connection %v after %d token requests", conn, fx.srv.count())
			}
		case errors.Is(err, connect.ErrMalformedCallback), errors.Is(err, connect.ErrInvalidState):
			if fx.srv.count() != 0 {
				t.Fatalf("a malformed callback (%v) reached the token endpoint", err)
			}
		}
	})
}

// FuzzTokenResponse answers a code exchange with arbitrary responses: the callback never
// panics, stores a connection only with an access token and an expiry between now and a year
// from now (or none), never repeats the body, and makes only provider errors safe to render.
func FuzzTokenResponse(f *testing.F) {
	for _, b := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600}`, `{"access_token":"a","expires_in":"3600"}`,
		`{"error":"invalid_grant","error_description":"x"}`, `{"access_token":"a","token_type":"mac"}`,
		`{"access_token":"a","expires_in":-1}`, `{"access_token":"a","expires_in":2147483648}`, `<html>`, ``,
		`{"access_token":"a","scope":"a b c"}`, `access_token=a&token_type=bearer`,
		`{"access_token":"a","expires_in":-2147483649}`, `{"access_token":"a","expires_in":"-2147483649"}`,
		`{"access_token":"a","expires_in":"abc"}`, `{"access_token":"a","expires_in":1e400}`,
		`{"access_token":"a","expires_at":99999999999}`, `{"access_token":"a","expires_at":-5}`,
		`{"error":"<b>MARK</b>","error_description":"MARK","error_uri":"https://a.example/MARK"}`,
	} {
		f.Add(200, "application/json", b)
	}
	f.Add(502, "text/html", "<html>oops</html>")
	f.Add(400, "application/x-www-form-urlencoded", "error=invalid_grant")
	f.Add(200, "application/x-www-form-urlencoded", "access_token=a&expires_in=NaN")
	f.Add(200, "application/x-www-form-urlencoded", "access_token=a&expires_in=99999999999999999999")
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 200 || status > 599 {
			status = 200
		}
		const marker = "ZZMARKERZZ"
		fx := newFixture(t)
		fx.srv.setHeader("Content-Type", contentType)
		fx.srv.setRespond(func(tokenRequest) (int, string) { return status, strings.ReplaceAll(body, "MARK", marker) })
		a := fx.begin(t)
		conn, err := fx.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State))
		stored := len(fx.records(t, "proj"))
		if err != nil {
			if conn != nil || stored != 0 {
				t.Fatalf("error %v with connection %v and %d stored", err, conn, stored)
			}
			if strings.Contains(err.Error(), marker) && !strings.Contains(err.Error(), "provider error") {
				t.Fatalf("error repeats the response body: %v", err)
			}
			var pe *connect.ProviderError
			if errors.As(err, &pe) && !safeProviderError(pe) {
				t.Fatalf("provider error %+v is not safe to render", pe)
			}
			return
		}
		if stored != 1 {
			t.Fatalf("success with %d connections stored", stored)
		}
		ts, err := fx.c.TokenSource(context.Background(), conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			return // an expired token's refresh reached the same fuzzed endpoint
		}
		if tok.AccessToken == "" {
			t.Fatalf("a stored connection without an access token")
		}
		if !tok.Expiry.IsZero() && (tok.Expiry.Before(fx.clock.Now()) || tok.Expiry.After(fx.clock.Now().Add(365*24*time.Hour))) {
			t.Fatalf("expiry %v is not between now (%v) and a year from now", tok.Expiry, fx.clock.Now())
		}
	})
}

// safeProviderError reports whether a provider error's fields keep to connect's rules.
func safeProviderError(pe *connect.ProviderError) bool {
	for i := 0; i < len(pe.Code); i++ {
		if c := pe.Code[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return pe.Code != "" && len(pe.Code) <= 64 && len(pe.Description) <= 512 &&
		!strings.ContainsAny(pe.Description, "<>&'\"\\\r\n") && (pe.URI == "" || strings.HasPrefix(pe.URI, "https://"))
}
