package connecthttp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/state"
)

func TestOAuthConnectAmpersandRequest(t *testing.T) {
	f := newFixture(t)
	rec := f.do(http.MethodPost, "/v1/oauth-connect", ampersandConnectBody)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	raw, u := decodeURL(t, rec)
	if want := "https://login.salesforce.com/services/oauth2/authorize?"; !strings.HasPrefix(raw, want) {
		t.Errorf("URL %q does not start with %q", raw, want)
	}
	if !strings.Contains(rec.Body.String(), "&redirect_uri=") || strings.Contains(rec.Body.String(), `\u0026`) {
		t.Errorf("body %s: want & written as is", rec.Body)
	}
	q := u.Query()
	for k, want := range map[string]string{"client_id": "sf-client-id", "redirect_uri": testRedirect, "response_type": "code"} {
		if got := q[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want [%q]", k, got, want)
		}
	}
	if err := state.CheckToken(q.Get("state")); err != nil {
		t.Errorf("state %q is not a state token: %v", q.Get("state"), err)
	}
	if got := rec.Header().Values("Set-Cookie"); got != nil {
		t.Errorf("Set-Cookie = %q, want none without enableCSRFProtection", got)
	}
	noSentinel(t, "response", dump(rec), sentinelSecret, myKey)
}

func TestOAuthConnectBindingCookie(t *testing.T) {
	f := newFixture(t)
	rec := f.do(http.MethodPost, "/v1/oauth-connect",
		`{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c","enableCSRFProtection":true}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v, want one", cookies)
	}
	_, u := decodeURL(t, rec)
	ck, name := cookies[0], connect.BindingCookieName(u.Query().Get("state"))
	if ck.Name != name || ck.Value == "" || !ck.HttpOnly || !ck.Secure ||
		ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge != 600 {
		t.Errorf("cookie = %+v; want %s (the flow's), a value, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain, Max-Age=600", ck, name)
	}
	raw := rec.Header().Get("Set-Cookie")
	for _, attr := range []string{"__Host-connect-binding-", "Path=/", "Max-Age=600", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(raw, attr) {
			t.Errorf("Set-Cookie %q lacks %s", raw, attr)
		}
	}
	if strings.Contains(rec.Body.String(), ck.Value) {
		t.Errorf("body repeats the binding value")
	}
}

func TestOAuthConnectErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		body   string
		status int
		slug   string
		fields []string
	}{
		{"missing fields", `{}`, 400, "invalid-request", []string{"projectId", "provider", "groupRef", "consumerRef"}},
		{"wrong types", `{"projectId":"my-project","groupRef":5}`, 400, "invalid-body", []string{"groupRef"}},
		{"unknown provider", `{"projectId":"my-project","provider":"nosuch","groupRef":"g","consumerRef":"c"}`, 400, "unknown-provider", []string{"provider"}},
		{"no app", `{"projectId":"my-project","provider":"hubspot","groupRef":"g","consumerRef":"c"}`, 400, "unknown-provider-app", []string{"provider"}},
		{"unknown app", `{"projectId":"my-project","provider":"salesforce","groupRef":"g","consumerRef":"c","providerAppId":"nope"}`, 400, "unknown-provider-app", []string{"providerAppId"}},
		{"reserved param", `{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c","additionalParams":"state=x"}`, 400, "invalid-request", nil},
		{"bad prompt", `{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c","prompt":"none login"}`, 400, "invalid-request", []string{"prompt"}},
		{"bad workspace", `{"projectId":"my-project","provider":"salesforce","groupRef":"g","consumerRef":"c","providerWorkspaceRef":"evil.com#"}`, 400, "invalid-request", []string{"providerWorkspaceRef"}},
		{"wrong clientId", `{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c","clientId":"other"}`, 400, "invalid-request", []string{"clientId"}},
		{"control character", "{\"projectId\":\"my-project\",\"provider\":\"testprov\",\"groupRef\":\"g\\r\\nX: 1\",\"consumerRef\":\"c\"}", 400, "invalid-request", []string{"groupRef"}},
		{"other project", `{"projectId":"other-project","provider":"testprov","groupRef":"g","consumerRef":"c"}`, 403, "forbidden", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := checkProblem(t, f.do(http.MethodPost, "/v1/oauth-connect", tt.body), tt.status, tt.slug, tt.fields...)
			if tt.name == "reserved param" && (len(p.Errors) != 1 || !strings.HasPrefix(p.Errors[0].Field, "additionalParams")) {
				t.Errorf("errors = %+v, want one on additionalParams", p.Errors)
			}
		})
	}
}

func TestOAuthConnectStoreUnavailable(t *testing.T) {
	f := newFixtureWith(t, fixtureConfig{states: &failingStates{save: errors.New("SENTINEL_INTERNAL_dial tcp 10.0.0.5:6379")}})
	rec := f.do(http.MethodPost, "/v1/oauth-connect", ampersandConnectBody)
	checkProblem(t, rec, http.StatusServiceUnavailable, "store-unavailable")
	noSentinel(t, "response", dump(rec), "SENTINEL_INTERNAL", "10.0.0.5")
	if !strings.Contains(f.logs.String(), "SENTINEL_INTERNAL") {
		t.Errorf("logs do not record the store's error")
	}
}
