package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect/examples/authserver"
	"golang.org/x/oauth2"
)

// FuzzAuthorize sends arbitrary authorization request queries to GET and POST /authorize: the
// server never fails with 5xx, and never redirects anywhere but to a registered redirect URI,
// with iss.
func FuzzAuthorize(f *testing.F) {
	challenge := oauth2.S256ChallengeFromVerifier("0123456789012345678901234567890123456789abc")
	valid := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"read offline_access"}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	f.Add(valid.Encode(), "approve")
	f.Add(valid.Encode(), "deny")
	f.Add(valid.Encode()+"&redirect_uri=http://localhost/other", "approve")
	f.Add(strings.Replace(valid.Encode(), "localhost", "127.0.0.1:8765", 1), "approve")
	f.Add(strings.Replace(valid.Encode(), "localhost", "127.0.0.1:1", 1), "approve")
	f.Add("response_type=code&client_id=web-app&redirect_uri=http%3A%2F%2Flocalhost%2Fcallback%3Fa%3D1", "approve")
	f.Add("response_mode=form_post&"+valid.Encode(), "deny")
	f.Add("request_uri=urn:x&client_id=web-app", "approve")
	f.Add("%zz&;;==", "")
	f.Add("", "approve")

	srv, err := authserver.New(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	const issuer = "http://127.0.0.1:9999"
	srv.SetIssuer(issuer)
	h := srv.Handler()
	registered := []string{redirectURI, loopbackURI}

	f.Fuzz(func(t *testing.T, query, action string) {
		check := func(rec *httptest.ResponseRecorder) {
			if rec.Code >= 500 {
				t.Fatalf("status %d for query %q", rec.Code, query)
			}
			loc := rec.Header().Get("Location")
			if loc == "" {
				return
			}
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("Location %q: %v", loc, err)
			}
			base := *u
			base.RawQuery = ""
			if !slices.Contains(registered, base.String()) {
				t.Fatalf("redirect to %q, which is not registered (query %q)", loc, query)
			}
			if got := u.Query().Get("iss"); got != issuer {
				t.Fatalf("redirect %q: iss = %q", loc, got)
			}
		}
		get := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		get.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, get)
		check(rec)

		form := url.Values{"query": {query}, "action": {action}, "username": {username}, "password": {password}}
		req := httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(rec)
	})
}
