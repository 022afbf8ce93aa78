package connecthttp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/connectkit/connect/connecthttp"
)

// checkAnswer checks that a start route answered with its success shape or a problem, and
// not with a 5xx other than 502 and 503.
func checkAnswer(t *testing.T, status int, ctype string, body []byte, success func([]byte) bool) {
	t.Helper()
	if status >= 500 && status != http.StatusBadGateway && status != http.StatusServiceUnavailable {
		t.Fatalf("status %d; body %s", status, body)
	}
	if status == http.StatusOK {
		if ctype != "application/json" || !success(body) {
			t.Fatalf("200 with %s %q, want the success shape", ctype, body)
		}
		return
	}
	if ctype != "application/problem+json" {
		t.Fatalf("status %d with Content-Type %q", status, ctype)
	}
	var p problemBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Status != status || !strings.HasPrefix(p.Type, "https://connectkit.dev/problems/") || p.Title == "" {
		t.Fatalf("status %d: problem %q (%v) is not valid", status, body, err)
	}
	for _, e := range p.Errors {
		if e.Field == "" || e.Message == "" {
			t.Fatalf("problem %q has an empty field error", body)
		}
	}
}

// isAuthorizeURL reports whether body is a JSON string holding an https URL.
func isAuthorizeURL(body []byte) bool {
	var s string
	if json.Unmarshal(body, &s) != nil {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Hostname() == "127.0.0.1") && u.Query().Get("state") != ""
}

// isURLObject reports whether body is {"url": <https URL>}.
func isURLObject(body []byte) bool {
	var v struct {
		URL string `json:"url"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&v) != nil {
		return false
	}
	u, err := url.Parse(v.URL)
	return err == nil && (u.Scheme == "https" || u.Hostname() == "127.0.0.1") && u.Query().Get("state") != ""
}

func FuzzOAuthConnect(f *testing.F) {
	for _, s := range []string{
		ampersandConnectBody,
		`{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c","enableCSRFProtection":true}`,
		`{"projectId":"my-project","provider":"salesforce","groupRef":"g","consumerRef":"c","providerWorkspaceRef":"acme--uat.sandbox","scopes":["api"],"prompt":"consent+select_account","additionalParams":"display=popup"}`,
		`{"projectId":"my-project","provider":"salesforce","groupRef":"g","consumerRef":"c","providerMetadata":{"accountId":{"value":"1","source":"input"}}}`,
		`{"projectId":"other-project"}`, `{}`, `[]`, `null`, `"x"`, `{"a":1}`, `{} {}`, `{"projectId":1}`, "",
		`{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c","additionalParams":"state=x&redirect_uri=y"}`,
		`{"projectId":"my-project","provider":"salesforce","groupRef":"g","consumerRef":"c","authorizeUrl":"https://acme.my.salesforce.com/services/oauth2/authorize","clientId":"sf-client-id"}`,
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := newRequest(http.MethodPost, "/v1/oauth-connect", "")
		r.Body = http.NoBody
		if len(body) > 0 {
			r.Body = readCloser{bytes.NewReader(body)}
		}
		r.Header.Set("Content-Type", "application/json")
		rec := fx.serve(r)
		checkAnswer(t, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(), isAuthorizeURL)
	})
}

func FuzzInitialise(f *testing.F) {
	for _, s := range []string{
		versoriInitialiseBody,
		`{"authorizeUrl":"https://acme.my.salesforce.com/services/oauth2/authorize","clientId":"sf-client-id","credential":{"id":"sf-app","organisationId":"my-project"},"prompt":"consent"}`,
		`{"authorizeUrl":"x","clientId":"y","credential":{"id":"z","organisationId":"my-project"}}`,
		`{"credential":null}`, `{}`, `{"credential":{"x":1}}`,
	} {
		f.Add("hub-1", "salesforce", []byte(s))
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, hub, connector string, body []byte) {
		path := "/embed/" + url.PathEscape(hub) + "/connector/" + url.PathEscape(connector) + "/oauth2/initialise"
		r := newRequest(http.MethodPost, path, "")
		r.Body = readCloser{bytes.NewReader(body)}
		r.Header.Set("Content-Type", "application/json")
		rec := fx.serve(r)
		if rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusTemporaryRedirect || rec.Code == http.StatusPermanentRedirect {
			return // the mux cleans paths with dot segments or double slashes
		}
		checkAnswer(t, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(), isURLObject)
	})
}

// callbackLocation is what a callback may redirect to.
var callbackLocation = regexp.MustCompile(`^(` + regexp.QuoteMeta(successURL) + `\?connectionId=[0-9a-f-]{36}&provider=testprov|` +
	regexp.QuoteMeta(failureURL) + `&error=(access_denied|invalid_state|expired|store_unavailable|exchange_failed|invalid_request|server_error))$`)

func FuzzCallbackQuery(f *testing.F) {
	for _, s := range []string{
		"state=" + sentinelState + "&code=x", "state=a&state=b", "error=access_denied", "code=" + strings.Repeat("c", 5000),
		"state=%00&code=x", "state=x;y", "%zz", "state=" + sentinelState + "&error=x&error_description=%3Cscript%3E",
	} {
		f.Add(s, "")
	}
	fx := newFixture(f, connecthttp.WithRedirects(successURL, failureURL))
	f.Fuzz(func(t *testing.T, query, cookie string) {
		r := newRequest(http.MethodGet, "/callbacks/v1/oauth", "")
		r.URL.RawQuery = query
		if cookie != "" {
			r.Header.Set("Cookie", "__Host-connect-binding="+cookie)
		}
		rec := fx.serve(r)
		if rec.Code != http.StatusSeeOther || rec.Body.Len() != 0 || !callbackLocation.MatchString(rec.Header().Get("Location")) {
			t.Fatalf("status %d, Location %q, body %q", rec.Code, rec.Header().Get("Location"), rec.Body)
		}
	})
}

// readCloser adds a no-op Close to a reader.
type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
