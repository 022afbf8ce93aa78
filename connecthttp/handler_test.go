package connecthttp_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
	"github.com/connectkit/connect/state"
)

// decodeURL reads a JSON string answer and parses the URL in it.
func decodeURL(t *testing.T, rec *httptest.ResponseRecorder) (string, *url.URL) {
	t.Helper()
	var s string
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatalf("body %q is not a JSON string: %v", rec.Body, err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("URL %q does not parse: %v", s, err)
	}
	return s, u
}

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
	var authURL string
	if err := json.Unmarshal(rec.Body.Bytes(), &authURL); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
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

// startRoutes are the routes that take a JSON body, with a valid body each.
var startRoutes = []struct{ name, path, body string }{
	{"oauth-connect", "/v1/oauth-connect", ampersandConnectBody},
	{"initialise", "/embed/hub-1/connector/salesforce/oauth2/initialise", versoriInitialiseBody},
	{"connections", "/v1/projects/my-project/connections", apiKeyConnectionBody},
}

func TestBodyRoutesRefuse(t *testing.T) {
	tests := []struct {
		name   string
		method string
		ctype  []string // nil means application/json
		body   string   // "" means the route's valid body
		status int
		slug   string
		field  string
	}{
		{name: "GET", method: http.MethodGet, status: 405, slug: "method-not-allowed"},
		{name: "PUT", method: http.MethodPut, status: 405, slug: "method-not-allowed"},
		{name: "no content type", ctype: []string{}, status: 415, slug: "unsupported-media-type"},
		{name: "text/plain", ctype: []string{"text/plain"}, status: 415, slug: "unsupported-media-type"},
		{name: "form", ctype: []string{"application/x-www-form-urlencoded"}, status: 415, slug: "unsupported-media-type"},
		{name: "multipart", ctype: []string{"multipart/form-data; boundary=x"}, status: 415, slug: "unsupported-media-type"},
		{name: "latin1", ctype: []string{"application/json; charset=latin1"}, status: 415, slug: "unsupported-media-type"},
		{name: "two types", ctype: []string{"application/json", "text/plain"}, status: 415, slug: "unsupported-media-type"},
		{name: "bad JSON", body: `{"provider":`, status: 400, slug: "invalid-body"},
		{name: "not JSON", body: `provider=salesforce`, status: 400, slug: "invalid-body"},
		{name: "empty", body: " ", status: 400, slug: "invalid-body"},
		{name: "array", body: `[]`, status: 400, slug: "invalid-body"},
		{name: "unknown field", body: `{"evilField":1}`, status: 400, slug: "invalid-body", field: "evilField"},
		{name: "trailing object", body: `{} {}`, status: 400, slug: "invalid-body"},
		{name: "trailing garbage", body: `{}x`, status: 400, slug: "invalid-body"},
		{name: "too large", body: `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, status: 413, slug: "body-too-large"},
		{name: "too large after value", body: `{}` + strings.Repeat(" ", 70<<10), status: 413, slug: "body-too-large"},
	}
	f := newFixture(t)
	for _, route := range startRoutes {
		for _, tt := range tests {
			if tt.method == http.MethodGet && route.name == "connections" {
				continue // GET lists the connections
			}
			t.Run(route.name+"/"+tt.name, func(t *testing.T) {
				method := tt.method
				if method == "" {
					method = http.MethodPost
				}
				body := tt.body
				if body == "" {
					body = route.body
				}
				r := newRequest(method, route.path, body)
				if tt.ctype != nil {
					r.Header.Del("Content-Type")
					for _, v := range tt.ctype {
						r.Header.Add("Content-Type", v)
					}
				}
				rec := f.serve(r)
				var fields []string
				if tt.field != "" {
					fields = []string{tt.field}
				}
				checkProblem(t, rec, tt.status, tt.slug, fields...)
				if tt.status == 405 {
					if got := rec.Header().Get("Allow"); !strings.Contains(got, "POST") {
						t.Errorf("Allow = %q, want it to list POST", got)
					}
				}
			})
		}
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	routes := append(startRoutes[:len(startRoutes):len(startRoutes)],
		struct{ name, path, body string }{"list", "/v1/projects/my-project/connections", ""},
		struct{ name, path, body string }{"get", "/v1/projects/my-project/connections/abc", ""},
	)
	tests := []struct {
		name string
		keys []string
	}{
		{"missing", nil},
		{"empty", []string{""}},
		{"unknown", []string{"SENTINEL_WRONG_KEY_123"}},
		{"prefix of a key", []string{myKey[:len(myKey)-1]}},
		{"twice", []string{myKey, myKey}},
		{"too long", []string{strings.Repeat("k", 5000)}},
	}
	for _, route := range routes {
		for _, tt := range tests {
			t.Run(route.name+"/"+tt.name, func(t *testing.T) {
				method := http.MethodPost
				if route.body == "" {
					method = http.MethodGet
				}
				r := newRequest(method, route.path, route.body)
				r.Header.Del("X-Api-Key")
				for _, k := range tt.keys {
					r.Header.Add("X-Api-Key", k)
				}
				rec := f.serve(r)
				checkProblem(t, rec, http.StatusUnauthorized, "unauthenticated")
				if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "ApiKey") {
					t.Errorf("WWW-Authenticate = %q, want ApiKey", got)
				}
				noSentinel(t, "response", dump(rec), "SENTINEL_WRONG_KEY_123", myKey[:len(myKey)-1])
			})
		}
	}
	noSentinel(t, "logs", f.logs.String(), "SENTINEL_WRONG_KEY_123", myKey, otherKey)
}

func TestOtherProjectForbidden(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ name, method, path, body, key string }{
		{"oauth-connect", http.MethodPost, "/v1/oauth-connect", ampersandConnectBody, otherKey},
		{"initialise", http.MethodPost, "/embed/hub-1/connector/salesforce/oauth2/initialise", versoriInitialiseBody, otherKey},
		{"create", http.MethodPost, "/v1/projects/my-project/connections", apiKeyConnectionBody, otherKey},
		{"list", http.MethodGet, "/v1/projects/my-project/connections", "", otherKey},
		{"get", http.MethodGet, "/v1/projects/my-project/connections/abc", "", otherKey},
		{"delete", http.MethodDelete, "/v1/projects/my-project/connections/abc", "", otherKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.method, tt.path, tt.body)
			r.Header.Set("X-Api-Key", tt.key)
			checkProblem(t, f.serve(r), http.StatusForbidden, "forbidden")
		})
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

func TestInternalErrorIsGeneric(t *testing.T) {
	f := newFixtureWith(t, fixtureConfig{edit: func(c *connect.Config) { c.RedirectURL = "" }})
	rec := f.do(http.MethodPost, "/v1/oauth-connect", ampersandConnectBody)
	p := checkProblem(t, rec, http.StatusInternalServerError, "internal-error")
	if strings.Contains(p.Detail, "RedirectURL") {
		t.Errorf("detail %q repeats the internal error", p.Detail)
	}
	if !strings.Contains(f.logs.String(), "RedirectURL") {
		t.Errorf("logs do not record the internal error")
	}
}

func TestInitialiseVersoriRequest(t *testing.T) {
	f := newFixture(t)
	rec := f.do(http.MethodPost, "/embed/hub-1/connector/salesforce/oauth2/initialise", versoriInitialiseBody)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var got struct {
		URL string `json:"url"`
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("body does not decode as {\"url\"}: %v", err)
	}
	u, err := url.Parse(got.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://login.salesforce.com/services/oauth2/authorize"; u.Scheme+"://"+u.Host+u.Path != want {
		t.Errorf("endpoint = %s, want %s", u.Scheme+"://"+u.Host+u.Path, want)
	}
	q := u.Query()
	for k, want := range map[string]string{"client_id": "sf-client-id", "redirect_uri": testRedirect, "prompt": "login", "display": "popup"} {
		if got := q[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want [%q]", k, got, want)
		}
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " api ") {
		t.Errorf("scope = %q, want it to hold api", q.Get("scope"))
	}
}

func TestInitialiseErrors(t *testing.T) {
	f := newFixture(t)
	const path = "/embed/hub-1/connector/salesforce/oauth2/initialise"
	body := func(edit string) string {
		// edit replaces the whole credential and clientId part.
		return `{"authorizeUrl":"https://login.salesforce.com/services/oauth2/authorize",` + edit + `}`
	}
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		slug   string
		fields []string
	}{
		{"missing all", path, `{}`, 400, "invalid-request", []string{"authorizeUrl", "clientId", "credential.id", "credential.organisationId"}},
		{"null credential", path, body(`"clientId":"sf-client-id","credential":null`), 400, "invalid-request", []string{"credential.id", "credential.organisationId"}},
		{"other organisation", path, body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"other-project"}`), 403, "forbidden", nil},
		{"unknown credential", path, body(`"clientId":"sf-client-id","credential":{"id":"nope","organisationId":"my-project"}`), 400, "unknown-provider-app", []string{"credential.id"}},
		{"bad credential id", path, body(`"clientId":"sf-client-id","credential":{"id":"-x y","organisationId":"my-project"}`), 400, "invalid-request", []string{"credential.id"}},
		{"wrong clientId", path, body(`"clientId":"not-mine","credential":{"id":"sf-app","organisationId":"my-project"}`), 400, "invalid-request", []string{"clientId"}},
		{"unknown connector", "/embed/hub-1/connector/nosuch/oauth2/initialise", body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"}`), 400, "unknown-provider", []string{"connector_id"}},
		{"bad connector", "/embed/hub-1/connector/-x/oauth2/initialise", body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"}`), 400, "invalid-request", []string{"connector_id"}},
		{"bad hub", "/embed/hub%0A1/connector/salesforce/oauth2/initialise", body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"}`), 400, "invalid-request", []string{"hub_id"}},
		{"foreign authorizeUrl", path, `{"authorizeUrl":"https://evil.example/authorize","clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"}}`, 400, "invalid-request", []string{"authorizeUrl"}},
		{"bad workspace in authorizeUrl", path, `{"authorizeUrl":"https://-x.my.salesforce.com/services/oauth2/authorize","clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"}}`, 400, "invalid-request", []string{"authorizeUrl"}},
		{"reserved additionalParams", path, body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"},"additionalParams":"redirect_uri=https://evil.example"`), 400, "invalid-request", nil},
		{"bad prompt", path, body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"},"prompt":"none+login"`), 400, "invalid-request", []string{"prompt"}},
		{"unknown nested field", path, body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project","secret":"x"}`), 400, "invalid-body", []string{"secret"}},
		{"oauth-connect field", path, body(`"clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"},"projectId":"my-project"`), 400, "invalid-body", []string{"projectId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := checkProblem(t, f.do(http.MethodPost, tt.path, tt.body), tt.status, tt.slug, tt.fields...)
			for _, e := range p.Errors {
				switch e.Field {
				case "providerAppId", "projectId", "provider", "groupRef", "consumerRef", "providerWorkspaceRef":
					if tt.name != "oauth-connect field" {
						t.Errorf("field %q is connect's name, not Versori's", e.Field)
					}
				}
			}
		})
	}
}

func TestInitialiseHubOwner(t *testing.T) {
	owner := func(_ *http.Request, hubID string) (string, string, error) {
		switch hubID {
		case "hub-1":
			return "group-9", "user-9", nil
		case "bad":
			return "", "", connect.ErrInvalidRequest
		case "down":
			return "", "", connect.ErrStoreUnavailable
		}
		return "", "", errors.New("not yours")
	}
	f := newFixture(t, connecthttp.WithHubOwner(owner), connecthttp.WithRedirects(successURL, failureURL))
	tests := []struct {
		hub    string
		status int
		slug   string
	}{
		{"hub-1", 200, ""},
		{"bad", 400, "invalid-request"},
		{"down", 503, "store-unavailable"},
		{"someone-elses", 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.hub, func(t *testing.T) {
			rec := f.do(http.MethodPost, "/embed/"+tt.hub+"/connector/testprov/oauth2/initialise",
				`{"authorizeUrl":"`+f.provider.URL+`/authorize","clientId":"test-client","credential":{"id":"test-app","organisationId":"my-project"}}`)
			if tt.status != 200 {
				checkProblem(t, rec, tt.status, tt.slug)
				return
			}
			if rec.Code != 200 {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			var got struct{ URL string }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(got.URL)
			// The flow's group and consumer come from the hub owner: finish it and look.
			cb := f.serve(httptest.NewRequest(http.MethodGet, "https://api.example.com/callbacks/v1/oauth?code=abc&state="+u.Query().Get("state"), nil))
			loc, _ := url.Parse(cb.Header().Get("Location"))
			conn := f.do(http.MethodGet, "/v1/projects/my-project/connections/"+loc.Query().Get("connectionId"), "")
			var c connect.Connection
			if err := json.Unmarshal(conn.Body.Bytes(), &c); err != nil {
				t.Fatalf("connection %s: %v", conn.Body, err)
			}
			if c.Group.Ref != "group-9" || c.Consumer.Ref != "user-9" {
				t.Errorf("group, consumer = %q, %q; want group-9, user-9", c.Group.Ref, c.Consumer.Ref)
			}
		})
	}
}

func TestConnectionsLifecycle(t *testing.T) {
	f := newFixture(t)
	const base = "/v1/projects/my-project/connections"
	rec := f.do(http.MethodPost, base, apiKeyConnectionBody)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: status = %d, want 201; body %s", rec.Code, rec.Body)
	}
	noSentinel(t, "create response", dump(rec), "SENTINEL_PROVIDER_KEY_0a1b2c3d", myKey)
	var created connect.Connection
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.ProjectID != "my-project" || created.Provider != "keyprov" ||
		created.AuthScheme != connect.AuthSchemeAPIKey || created.Group.Name != "Organization Name" || created.Consumer.Ref != "user_123456" {
		t.Errorf("created = %+v", created)
	}

	// The same group and consumer again update the connection.
	rec = f.do(http.MethodPost, base, apiKeyConnectionBody)
	var updated connect.Connection
	if err := json.Unmarshal(rec.Body.Bytes(), &updated); rec.Code != http.StatusCreated || err != nil || updated.ID != created.ID {
		t.Errorf("second create: status = %d, id %q, err %v; want 201 and the same id", rec.Code, updated.ID, err)
	}

	rec = f.do(http.MethodGet, base+"/"+created.ID, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("get: status = %d; body %s", rec.Code, rec.Body)
	}
	noSentinel(t, "get response", dump(rec), "SENTINEL_PROVIDER_KEY_0a1b2c3d")

	for _, tt := range []struct {
		query string
		n     int
	}{
		{"", 1}, {"?provider=keyprov", 1}, {"?provider=salesforce", 0},
		{"?groupRef=group-123&consumerRef=user_123456", 1}, {"?consumerRef=nobody", 0},
	} {
		rec := f.do(http.MethodGet, base+tt.query, "")
		var list []connect.Connection
		if err := json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != 200 || err != nil {
			t.Fatalf("list%s: status %d, body %s, err %v", tt.query, rec.Code, rec.Body, err)
		}
		if len(list) != tt.n {
			t.Errorf("list%s = %d connections, want %d", tt.query, len(list), tt.n)
		}
		if tt.n == 0 && strings.TrimSpace(rec.Body.String()) != "[]" {
			t.Errorf("empty list%s = %s, want []", tt.query, rec.Body)
		}
	}

	// Another project's key cannot see it through its own project either.
	r := newRequest(http.MethodGet, "/v1/projects/other-project/connections/"+created.ID, "")
	r.Header.Set("X-Api-Key", otherKey)
	checkProblem(t, f.serve(r), http.StatusNotFound, "not-found")
	r = newRequest(http.MethodDelete, "/v1/projects/other-project/connections/"+created.ID, "")
	r.Header.Set("X-Api-Key", otherKey)
	checkProblem(t, f.serve(r), http.StatusNotFound, "not-found")

	if rec := f.do(http.MethodDelete, base+"/"+created.ID, ""); rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("delete: status = %d, body %q; want 204 and no body", rec.Code, rec.Body)
	}
	checkProblem(t, f.do(http.MethodDelete, base+"/"+created.ID, ""), http.StatusNotFound, "not-found")
	checkProblem(t, f.do(http.MethodGet, base+"/"+created.ID, ""), http.StatusNotFound, "not-found")
	noSentinel(t, "logs", f.logs.String(), "SENTINEL_PROVIDER_KEY_0a1b2c3d", myKey, sentinelSecret)
}

func TestConnectionsErrors(t *testing.T) {
	f := newFixture(t)
	f.setTokenResponse(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"bad secret SENTINEL_CC_SECRET_77"}`))
	})
	const base = "/v1/projects/my-project/connections"
	tests := []struct {
		name, method, path, body string
		status                   int
		slug                     string
		fields                   []string
	}{
		{"body project differs", http.MethodPost, base, `{"projectId":"other-project","provider":"keyprov","groupRef":"g","consumerRef":"c","apiKey":"k"}`, 400, "invalid-request", []string{"projectId"}},
		{"no credential", http.MethodPost, base, `{"provider":"keyprov","groupRef":"g","consumerRef":"c"}`, 400, "invalid-request", []string{"credentials"}},
		{"two credentials", http.MethodPost, base, `{"provider":"keyprov","groupRef":"g","consumerRef":"c","apiKey":"k","basicAuth":{"username":"u","password":"p"}}`, 400, "invalid-request", []string{"credentials"}},
		{"kind not accepted", http.MethodPost, base, `{"provider":"keyprov","groupRef":"g","consumerRef":"c","basicAuth":{"username":"u","password":"p"}}`, 400, "invalid-request", []string{"basicAuth"}},
		{"unknown provider", http.MethodPost, base, `{"provider":"nosuch","groupRef":"g","consumerRef":"c","apiKey":"k"}`, 400, "unknown-provider", []string{"provider"}},
		{"header injection", http.MethodPost, base, `{"provider":"keyprov","groupRef":"g","consumerRef":"c","apiKey":"abc\r\nX-Injected: 1"}`, 400, "invalid-request", []string{"apiKey"}},
		{"provider refuses", http.MethodPost, base, `{"provider":"ccprov","groupRef":"g","consumerRef":"c","oauth2ClientCredentials":{"clientId":"id","clientSecret":"SENTINEL_CC_SECRET_77"}}`, 502, "provider-error", nil},
		{"bad id", http.MethodGet, base + "/a%20b", "", 400, "invalid-request", []string{"id"}},
		{"unknown filter", http.MethodGet, base + "?owner=x", "", 400, "invalid-request", []string{"owner"}},
		{"repeated filter", http.MethodGet, base + "?provider=a&provider=b", "", 400, "invalid-request", []string{"provider"}},
		{"control in filter", http.MethodGet, base + "?groupRef=a%0Ab", "", 400, "invalid-request", []string{"groupRef"}},
		{"PUT", http.MethodPut, base + "/abc", "", 405, "method-not-allowed", nil},
		{"unknown route", http.MethodGet, "/v1/nothing", "", 404, "not-found", nil},
		{"trailing slash", http.MethodGet, base + "/", "", 404, "not-found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(tt.method, tt.path, tt.body)
			checkProblem(t, rec, tt.status, tt.slug, tt.fields...)
			noSentinel(t, "response", dump(rec), "SENTINEL_CC_SECRET_77", myKey)
		})
	}
	noSentinel(t, "logs", f.logs.String(), "SENTINEL_CC_SECRET_77", myKey)
}
