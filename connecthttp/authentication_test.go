package connecthttp_test

import (
	"net/http"
	"strings"
	"testing"
)

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
