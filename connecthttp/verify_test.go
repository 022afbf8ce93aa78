package connecthttp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/connectkit/connect"
)

// goodKey is the only API key the provider of apiprov accepts.
const goodKey = "SENTINEL_PROVIDER_GOOD_KEY_5e6f"

// acceptGoodKey makes the fixture's provider answer its API's /me: 200 for goodKey, else 401.
func acceptGoodKey(f *fixture) {
	f.setTokenResponse(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/me" || r.Header.Get("X-Provider-Key") != goodKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"me"}`))
	})
}

func apiKeyBody(key string, verify bool) string {
	b, _ := json.Marshal(map[string]any{
		"provider": "apiprov", "groupRef": "group-123", "consumerRef": "user_123456", "apiKey": key, "verify": verify,
	})
	return string(b)
}

func TestCreateConnectionVerifies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    string
		verify bool
		status int
		slug   string
		stored int
	}{
		{"accepted", goodKey, true, http.StatusCreated, "", 1},
		{"refused", "SENTINEL_PROVIDER_BAD_KEY_9a8b", true, http.StatusUnprocessableEntity, "bad-credentials", 0},
		{"not asked", "SENTINEL_PROVIDER_BAD_KEY_9a8b", false, http.StatusCreated, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			acceptGoodKey(f)
			const base = "/v1/projects/my-project/connections"
			rec := f.do(http.MethodPost, base, apiKeyBody(tc.key, tc.verify))
			if tc.slug != "" {
				checkProblem(t, rec, tc.status, tc.slug)
			} else if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			noSentinel(t, "response", dump(rec), tc.key)
			noSentinel(t, "logs", f.logs.String(), tc.key)
			var list []connect.Connection
			if err := json.Unmarshal(f.do(http.MethodGet, base, "").Body.Bytes(), &list); err != nil || len(list) != tc.stored {
				t.Errorf("%d connections stored (%v), want %d", len(list), err, tc.stored)
			}
		})
	}
}

func TestVerifyRoute(t *testing.T) {
	f := newFixture(t)
	acceptGoodKey(f)
	const base = "/v1/projects/my-project/connections"
	ids := map[string]string{}
	for name, key := range map[string]string{"good": goodKey, "bad": "SENTINEL_PROVIDER_BAD_KEY_9a8b"} {
		body := strings.Replace(apiKeyBody(key, false), "group-123", "group-"+name, 1)
		var c connect.Connection
		if err := json.Unmarshal(f.do(http.MethodPost, base, body).Body.Bytes(), &c); err != nil || c.ID == "" {
			t.Fatalf("create %s: %v", name, err)
		}
		ids[name] = c.ID
	}
	rec := f.do(http.MethodPost, base+"/"+ids["good"]+"/verify", "")
	var got connect.Connection
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil || got.ID != ids["good"] {
		t.Errorf("verify good: status %d, body %s; want 200 and the connection", rec.Code, rec.Body)
	}
	checkProblem(t, f.do(http.MethodPost, base+"/"+ids["bad"]+"/verify", ""), http.StatusUnprocessableEntity, "bad-credentials")
	checkProblem(t, f.do(http.MethodPost, base+"/nope/verify", ""), http.StatusNotFound, "not-found")
	checkProblem(t, f.do(http.MethodPost, "/v1/projects/other-project/connections/"+ids["good"]+"/verify", ""), http.StatusForbidden, "forbidden")
	if rec := f.do(http.MethodGet, base+"/"+ids["good"]+"/verify", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET verify: status %d, want 405", rec.Code)
	}
	noSentinel(t, "logs", f.logs.String(), goodKey, "SENTINEL_PROVIDER_BAD_KEY_9a8b")
}
