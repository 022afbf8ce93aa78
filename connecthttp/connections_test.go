package connecthttp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/connectkit/connect"
)

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
