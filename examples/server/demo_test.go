package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
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
	d := startDemo(t)
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
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"type":"connect:result","ok":true`) {
		t.Fatalf("callback: %d %s", res.StatusCode, body)
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
	if tok.TokenType != "Bearer" || tok.Expiry.IsZero() || len([]rune(tok.AccessTokenPreview)) != 5 || !strings.HasSuffix(tok.AccessTokenPreview, "…") {
		t.Errorf("token view %+v, want Bearer, an expiry and 4 characters and an ellipsis", tok)
	}
	// The whole token is never sent.
	ts, err := d.c.TokenSourceFor(context.Background(), demoProject, conns[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	full, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if len(full.AccessToken) <= 4 || strings.Contains(body, full.AccessToken) || strings.Contains(body, full.AccessToken[4:]) {
		t.Errorf("GET /demo/token sent more than a preview of the access token")
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
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error":"invalid_state"`) {
		t.Errorf("callback without the cookie: %d %s, want 400 and invalid_state", res.StatusCode, body)
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

func TestPreview(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ory_at_abcdef", "ory_…"},
		{"abc", "abc…"},
		{"", "…"},
		{"é€𝄞xyz", "é€𝄞x…"},
	}
	for _, tt := range tests {
		if got := preview(tt.in); got != tt.want {
			t.Errorf("preview(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
