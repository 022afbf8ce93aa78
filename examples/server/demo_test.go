package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/providers"
)

func TestPage(t *testing.T) {
	d := startDemo(t)
	res, body := do(t, http.MethodGet, d.url+"/", "", "")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q, want 200 text/html", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q, want script-src 'self' and nothing inline", csp)
	}
	for _, want := range []string{
		`<select id="provider">`,
		`<option value="local" selected>`,
		`<button type="button" id="connect">`,
		`<ul id="connections">`,
		`id="token"`,
		`id="error"`,
		`<script src="/static/app.js" defer></script>`,
		`data-api-key="` + demoAPIKey + `"`,
		`<code id="demo-user">ada</code>`,
		`<code id="demo-password">lovelace</code>`,
		`<form id="key-form" class="row">`,
		`<input type="password" id="api-key"`,
		`<input type="hidden" id="key-provider" value="local-apikey">`,
		`<code id="local-key">` + d.localKey + `</code>`,
		`id="notice"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, bad := range []string{"onclick", "onload", "javascript:", "<script>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page has %s: inline script, which its CSP forbids", bad)
		}
	}
	// "local" comes first; every catalog provider shown is disabled and is in the catalog.
	if i, j := strings.Index(body, `value="local"`), strings.Index(body, "<option"); i < 0 || j < 0 || i != j+len("<option ") {
		t.Errorf("local is not the first option")
	}
	reg := providers.Default()
	for _, name := range catalogShown {
		if _, ok := reg.Lookup(name); !ok {
			t.Errorf("catalogShown lists %q, which is not in the catalog", name)
		}
		if want := `<option value="` + name + `" disabled>`; !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	d := startDemo(t)
	tests := []struct {
		path, wantType, wantBody string
		wantStatus               int
	}{
		{"/static/app.js", "text/javascript", `"connect:result"`, http.StatusOK},
		{"/static/app.css", "text/css", "#connections", http.StatusOK},
		{"/static/end.js", "text/javascript", `"connect:result"`, http.StatusOK},
		{"/static/end.html", "application/problem+json", "not-found", http.StatusNotFound},
		{"/static/index.html", "application/problem+json", "not-found", http.StatusNotFound},
		{"/static/", "application/problem+json", "not-found", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, body := do(t, http.MethodGet, d.url+tt.path, "", "")
			if res.StatusCode != tt.wantStatus || !strings.HasPrefix(res.Header.Get("Content-Type"), tt.wantType) {
				t.Errorf("GET %s = %d %q, want %d %s", tt.path, res.StatusCode, res.Header.Get("Content-Type"), tt.wantStatus, tt.wantType)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s: the body lacks %s", tt.path, tt.wantBody)
			}
		})
	}
}

func TestTokenProblems(t *testing.T) {
	d := startDemo(t)
	tests := []struct {
		name, id   string
		wantStatus int
		wantType   string
	}{
		{"unknown", "00000000-0000-4000-8000-000000000000", http.StatusNotFound, "https://connectkit.dev/problems/not-found"},
		{"malformed", "not%20an%20id", http.StatusBadRequest, "https://connectkit.dev/problems/invalid-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, http.MethodGet, d.url+"/demo/token/"+tt.id, "", "")
			if res.StatusCode != tt.wantStatus || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %q, want %d application/problem+json", res.StatusCode, res.Header.Get("Content-Type"), tt.wantStatus)
			}
			var p struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Type != tt.wantType || p.Status != tt.wantStatus {
				t.Errorf("problem %s (%v), want type %s", body, err, tt.wantType)
			}
		})
	}
}

// TestFlowWithoutBrowser runs the page's flow over HTTP: the consent decision goes through
// the authorization server's form handler in process, and the binding cookie is carried by
// hand.
func TestFlowWithoutBrowser(t *testing.T) {
	log, logs := newLogBuffer()
	d := startDemoLogged(t, log)
	res, body := do(t, http.MethodPost, d.url+"/v1/oauth-connect", demoAPIKey,
		`{"projectId":"demo","provider":"local","groupRef":"demo-group","consumerRef":"demo-user","enableCSRFProtection":true}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("oauth-connect: %d %s", res.StatusCode, body)
	}
	var authorizeURL string
	if err := json.Unmarshal([]byte(body), &authorizeURL); err != nil || !strings.HasPrefix(authorizeURL, d.authURL+"/authorize?") {
		t.Fatalf("oauth-connect answered %s (%v), want a URL of %s", body, err, d.authURL)
	}
	u, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	name := connect.BindingCookieName(u.Query().Get("state"))
	var binding *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == name {
			binding = ck
		}
	}
	if binding == nil || !binding.Secure || !binding.HttpOnly {
		t.Fatalf("no HttpOnly, Secure %s cookie in %v", name, res.Cookies())
	}
	loc, err := d.as.Decide(authorizeURL, true, demoUser, demoPassword)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != d.url+callbackPath {
		t.Fatalf("redirected to %s, want the callback %s", got, d.url+callbackPath)
	}
	res, body = do(t, http.MethodGet, loc.String(), "", "", "Cookie", binding.Name+"="+binding.Value)
	end, err := res.Location()
	if res.StatusCode != http.StatusSeeOther || err != nil || end.Path != connectedPath || end.Query().Get("provider") != "local" {
		t.Fatalf("callback: %d to %v (%v) %s, want 303 to %s", res.StatusCode, end, err, body, connectedPath)
	}
	res, body = do(t, http.MethodGet, end.String(), "", "")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-ok="true"`) ||
		!strings.Contains(body, `data-connection-id="`+end.Query().Get("connectionId")+`"`) {
		t.Fatalf("the popup's end page: %d %s", res.StatusCode, body)
	}

	res, body = do(t, http.MethodGet, d.url+"/v1/projects/demo/connections", demoAPIKey, "")
	var conns []connect.Connection
	if err := json.Unmarshal([]byte(body), &conns); err != nil || res.StatusCode != http.StatusOK || len(conns) != 1 {
		t.Fatalf("connections: %d %s (%v), want one", res.StatusCode, body, err)
	}
	if conns[0].Provider != "local" || conns[0].Status != connect.StatusWorking {
		t.Errorf("connection %+v, want a working local connection", conns[0])
	}

	res, body = do(t, http.MethodGet, d.url+"/demo/token/"+conns[0].ID, "", "")
	var tok tokenView
	if err := json.Unmarshal([]byte(body), &tok); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s (%v)", res.StatusCode, body, err)
	}
	if tok.TokenType != "Bearer" || tok.Expiry.IsZero() || !regexp.MustCompile(`^sha256:[0-9a-f]{12}$`).MatchString(tok.Fingerprint) {
		t.Errorf("token view %+v, want Bearer, an expiry and a fingerprint", tok)
	}
	// Nothing of the token is sent but its fingerprint.
	ts, err := d.c.TokenSourceFor(context.Background(), demoProject, conns[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	full, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.Fingerprint != fingerprint(full.AccessToken) {
		t.Errorf("fingerprint %s is not the access token's", tok.Fingerprint)
	}
	if prefix := full.AccessToken[:8]; strings.Contains(body, prefix) {
		t.Errorf("GET /demo/token sent the start of the access token %q: %s", prefix, body)
	}

	// The log tells the flow, request by request and event by event, without a secret.
	out := logs.String()
	for _, want := range []string{
		`msg="http request" server=backend method=POST path=/v1/oauth-connect status=200`,
		`msg="http request" server=auth method=POST path=/token status=200`,
		`msg="http request" server=backend method=GET path=/callbacks/v1/oauth status=303`,
		`msg="connect: connection.created" project=demo provider=local connection=` + conns[0].ID + ` status=working`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	for name, secret := range map[string]string{
		"the code": loc.Query().Get("code"), "the state": u.Query().Get("state"), "the binding": binding.Value,
		"the access token": full.AccessToken, "the refresh token": full.RefreshToken, "the API key": demoAPIKey,
	} {
		if secret == "" || strings.Contains(out, secret) {
			t.Errorf("the log has %s (or it is empty)", name)
		}
	}
}

// TestCallbackWithoutBinding shows that the binding is checked: a callback from a browser
// without the flow's cookie fails, so the browser test's success means Chromium kept and sent
// the cookie.
func TestCallbackWithoutBinding(t *testing.T) {
	d := startDemo(t)
	res, body := do(t, http.MethodPost, d.url+"/v1/oauth-connect", demoAPIKey,
		`{"projectId":"demo","provider":"local","groupRef":"demo-group","consumerRef":"demo-user","enableCSRFProtection":true}`)
	var authorizeURL string
	if err := json.Unmarshal([]byte(body), &authorizeURL); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("oauth-connect: %d %s", res.StatusCode, body)
	}
	loc, err := d.as.Decide(authorizeURL, true, demoUser, demoPassword)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	res, body = do(t, http.MethodGet, loc.String(), "", "")
	if end := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || end != failedPath+"?error=invalid_state" {
		t.Errorf("callback without the cookie: %d to %q %s, want 303 to %s?error=invalid_state", res.StatusCode, end, body, failedPath)
	}
	if n, _ := d.conns.List(context.Background(), demoProject, connect.ConnectionFilter{}); len(n) != 0 {
		t.Errorf("%d connections, want none", len(n))
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:80", "localhost:0", "nonsense"} {
		if _, err := newDemo(addr, "127.0.0.1:0", nil); err == nil {
			t.Errorf("newDemo(%q) succeeded, want a refusal", addr)
		}
	}
}

func TestFingerprint(t *testing.T) {
	// SHA-256("abc") begins ba7816bf8f01.
	if got := fingerprint("abc"); got != "sha256:ba7816bf8f01" {
		t.Errorf(`fingerprint("abc") = %q, want sha256:ba7816bf8f01`, got)
	}
	// Two tokens of one server share their start; their fingerprints differ.
	if a, b := fingerprint("ory_at_aaaa.1"), fingerprint("ory_at_aaaa.2"); a == b {
		t.Errorf("two tokens have the fingerprint %s", a)
	}
}

func TestEndPage(t *testing.T) {
	d := startDemo(t)
	tests := []struct {
		name, query string
		wantStatus  int
		want        []string
	}{
		{"connected", connectedPath + "?connectionId=4f1c2a&provider=local", http.StatusOK,
			[]string{`data-ok="true"`, `data-connection-id="4f1c2a"`, `data-provider="local"`, `<h1 id="end-title">Connected</h1>`}},
		{"denied", failedPath + "?error=access_denied", http.StatusBadRequest,
			[]string{`data-ok="false"`, `data-error="access_denied"`, `<h1 id="end-title">Access was denied</h1>`, "You clicked Deny"}},
		{"expired", failedPath + "?error=expired", http.StatusBadRequest,
			[]string{`data-error="expired"`, "The sign-in took too long"}},
		{"unknown code", failedPath + "?error=%3Cscript%3E", http.StatusBadRequest,
			[]string{`data-error="unknown"`, "Something went wrong on the server"}},
		{"no code", failedPath, http.StatusBadRequest, []string{`data-error="unknown"`}},
		{"bad connection id", connectedPath + "?connectionId=%22%3E%3Cb%3E&provider=local", http.StatusBadRequest,
			[]string{`data-ok="false"`, `data-error="invalid_request"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, http.MethodGet, d.url+tt.query, "", "")
			if res.StatusCode != tt.wantStatus || res.Header.Get("Content-Security-Policy") != pageCSP {
				t.Errorf("status %d, CSP %q; want %d and the page's CSP", res.StatusCode, res.Header.Get("Content-Security-Policy"), tt.wantStatus)
			}
			// Styled as the demo page, by its style sheet: nothing inline.
			for _, want := range append(tt.want, `<link rel="stylesheet" href="/static/app.css">`, `<script src="/static/end.js" defer></script>`) {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %s:\n%s", want, body)
				}
			}
			for _, bad := range []string{"<script>", "style=", "<style", "<b>"} {
				if strings.Contains(body, bad) {
					t.Errorf("the page has %s", bad)
				}
			}
		})
	}
}

// TestBusyPort asks for ports already taken: the error says so, and names the flag to pass.
func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	for _, tt := range []struct{ addr, authAddr, flag string }{
		{busy, "127.0.0.1:0", "pass -addr 127.0.0.1:0"},
		{"127.0.0.1:0", busy, "pass -auth-addr 127.0.0.1:0"},
	} {
		_, err := newDemo(tt.addr, tt.authAddr, nil)
		if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("newDemo(%s, %s): %v, want an error saying the port is in use and to %s", tt.addr, tt.authAddr, err, tt.flag)
		}
	}
}

// TestRequestLog checks that a request's log record has neither its query nor its headers.
func TestRequestLog(t *testing.T) {
	log, logs := newLogBuffer()
	d := startDemoLogged(t, log)
	do(t, http.MethodGet, d.url+callbackPath+"?code=code-sentinel-1234&state=state-sentinel-5678", "key-sentinel-9012", "",
		"Authorization", "Bearer token-sentinel-3456")
	out := logs.String()
	if want := `msg="http request" server=backend method=GET path=/callbacks/v1/oauth status=303 duration=`; !strings.Contains(out, want) {
		t.Errorf("the log lacks %s:\n%s", want, out)
	}
	if strings.Contains(out, "sentinel") {
		t.Errorf("the log has a query or header value:\n%s", out)
	}
}

// TestRegistry checks the demo's providers: the local one with its API and revocation
// endpoint, and the API-key one, which sends the key as X-Api-Key.
func TestRegistry(t *testing.T) {
	const authURL = "http://127.0.0.1:9"
	reg, err := demoRegistry(authURL)
	if err != nil {
		t.Fatal(err)
	}
	local, ok := reg.Lookup(demoProvider)
	if !ok || local.API == nil || local.API.BaseURL != authURL+"/api" || local.RevocationURL != authURL+"/revoke" ||
		local.API.Verify == nil || local.API.Verify.Method != http.MethodGet || local.API.Verify.Path != "/me" {
		t.Fatalf("provider local: %+v, want its API at /api, verified by GET /me, and revocation at /revoke", local)
	}
	keyed, ok := reg.Lookup(demoKeyProvider)
	if !ok || !keyed.Accepts(providers.APIKey) || keyed.Accepts(providers.OAuth2AuthorizationCode) {
		t.Fatalf("provider %s: %+v, want one accepting API keys only", demoKeyProvider, keyed)
	}
	pl, err := keyed.Credential(providers.APIKey, func(name string) string {
		if name == "apiKey" {
			return "k-123"
		}
		return ""
	})
	if err != nil || pl.Header.Get("X-Api-Key") != "k-123" || len(pl.Header) != 1 || pl.Query != nil || pl.Basic {
		t.Errorf("Credential: %+v (%v), want X-Api-Key alone", pl, err)
	}
}

// TestAPIKeyConnection connects the API-key provider as the page's form does, verifying the
// key first: a key the local API refuses is not stored.
func TestAPIKeyConnection(t *testing.T) {
	d := startDemo(t)
	// The status is connecthttp's to choose; the demo only needs a refusal.
	res, body := connectKey(t, d, "demo-key-not-the-one-it-accepts")
	if res.StatusCode < 400 || strings.Contains(body, "not-the-one") {
		t.Errorf("POST connections with a wrong key: %d %s, want a refusal that does not echo the key", res.StatusCode, body)
	}
	if recs, _ := d.conns.List(context.Background(), demoProject, connect.ConnectionFilter{}); len(recs) != 0 {
		t.Errorf("%d connections stored after a refused key, want none", len(recs))
	}

	res, body = connectKey(t, d, d.localKey)
	var conn connect.Connection
	if err := json.Unmarshal([]byte(body), &conn); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("POST connections: %d %s (%v), want 201", res.StatusCode, body, err)
	}
	if conn.Provider != demoKeyProvider || conn.AuthScheme != connect.AuthSchemeAPIKey || strings.Contains(body, d.localKey) {
		t.Errorf("connection %s, want an apiKey connection of %s without its key", body, demoKeyProvider)
	}
}

// TestCallAPI calls the local API through the call route, with an OAuth connection and an
// API-key connection: the API answers whose credential it got, and nothing of the credential
// reaches the page or the log.
func TestCallAPI(t *testing.T) {
	log, logs := newLogBuffer()
	d := startDemoLogged(t, log)
	oauthID := connectOAuth(t, d)
	res, body := connectKey(t, d, d.localKey)
	var keyConn connect.Connection
	if err := json.Unmarshal([]byte(body), &keyConn); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("POST connections: %d %s (%v)", res.StatusCode, body, err)
	}
	tests := []struct {
		name, id string
		want     map[string]any
	}{
		{"oauth", oauthID, map[string]any{"authenticatedBy": "accessToken", "subject": demoUser, "clientId": demoClientID}},
		{"apiKey", keyConn.ID, map[string]any{"authenticatedBy": "apiKey", "subject": "api-key-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, http.MethodPost, d.url+"/demo/connections/"+tt.id+"/call", demoAPIKey, "")
			var v struct {
				Method, URL string
				Status      int
				Body        map[string]any
			}
			if err := json.Unmarshal([]byte(body), &v); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("call: %d %s (%v)", res.StatusCode, body, err)
			}
			if v.Method != http.MethodGet || v.URL != d.authURL+"/api/me" || v.Status != http.StatusOK {
				t.Errorf("call: %s %s answered %d, want GET %s/api/me answered 200", v.Method, v.URL, v.Status, d.authURL)
			}
			for k, want := range tt.want {
				if v.Body[k] != want {
					t.Errorf("the API answered %s = %v, want %v (body %s)", k, v.Body[k], want, body)
				}
			}
			if strings.Contains(body, d.localKey) {
				t.Error("the call route sent the API key to the page")
			}
		})
	}
	ts, err := d.c.TokenSourceFor(context.Background(), demoProject, oauthID)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Contains(out, tok.AccessToken) || strings.Contains(out, d.localKey) {
		t.Error("the log has a credential")
	}

	for _, tt := range []struct {
		name, id, key string
		want          int
	}{
		{"without the demo's key", oauthID, "", http.StatusUnauthorized},
		{"unknown connection", "00000000-0000-4000-8000-000000000000", demoAPIKey, http.StatusNotFound},
		{"malformed id", "not%20an%20id", demoAPIKey, http.StatusBadRequest},
	} {
		if res, body := do(t, http.MethodPost, d.url+"/demo/connections/"+tt.id+"/call", tt.key, ""); res.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.StatusCode, body, tt.want)
		}
	}
}
