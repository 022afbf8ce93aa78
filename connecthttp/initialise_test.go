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
)

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
