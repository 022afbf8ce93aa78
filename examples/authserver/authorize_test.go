package authserver_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect/examples/authserver"
	"golang.org/x/oauth2"
)

func TestAuthorizePage(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	authURL := conf.AuthCodeURL(state+"<script>x</script>", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	res, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /authorize: status %d, want 200; body:\n%s", res.StatusCode, page)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	for _, want := range []string{
		`id="approve"`, `id="deny"`, `id="username"`, `id="password"`,
		`method="post"`, clientID, "<code>read</code>", "<code>offline_access</code>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "src=", "<link", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("consent page has %s: unescaped input or an external asset:\n%s", bad, page)
		}
	}
	checkStyleHash(t, res.Header.Get("Content-Security-Policy"), page)

	// The page's form, submitted as a browser would, gets the same answer as Decide.
	form := url.Values{"query": {mustParse(t, authURL).RawQuery}, "username": {username}, "password": {password}, "action": {"approve"}}
	res, err = noRedirects.PostForm(ts.URL+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := res.Location()
	if res.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Errorf("form POST: status %d, Location %v; want 303 with a code", res.StatusCode, loc)
	}

	// A wrong password shows the page again, with a message and the username kept.
	form.Set("password", "wrong")
	res, err = noRedirects.PostForm(ts.URL+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Wrong username or password") ||
		!strings.Contains(string(body), `value="alice"`) {
		t.Errorf("wrong password: status %d, body:\n%s", res.StatusCode, body)
	}
	_, err = srv.Decide(authURL, true, username, "wrong")
	if !errors.Is(err, authserver.ErrNoRedirect) {
		t.Errorf("Decide with a wrong password: error %v, want ErrNoRedirect", err)
	}
}

func TestAuthorizeRequestErrors(t *testing.T) {
	srv, ts := start(t, testConfig())
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	valid := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"read"},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	with := func(key, value string) url.Values {
		v := url.Values{}
		for k, vs := range valid {
			v[k] = slices.Clone(vs)
		}
		if value == "" {
			v.Del(key)
		} else {
			v.Set(key, value)
		}
		return v
	}

	// Errors the client may hear about: a redirect with error, state and iss.
	redirected := []struct {
		name      string
		query     url.Values
		wantError string
	}{
		{"no code_challenge", with("code_challenge", ""), "invalid_request"},
		{"plain code_challenge_method", with("code_challenge_method", "plain"), "invalid_request"},
		{"no code_challenge_method", with("code_challenge_method", ""), "invalid_request"},
		{"scope the client may not have", with("scope", "read admin"), "invalid_scope"},
		{"token response type", with("response_type", "token"), "unsupported_response_type"},
		{"fragment response mode", with("response_mode", "fragment"), "unsupported_response_mode"},
		{"short state", with("state", "abc"), "invalid_state"},
	}
	for _, tt := range redirected {
		t.Run(tt.name, func(t *testing.T) {
			res, err := noRedirects.Get(ts.URL + "/authorize?" + tt.query.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			loc, err := res.Location()
			if res.StatusCode != http.StatusSeeOther || err != nil {
				t.Fatalf("status %d, Location %v; want a 303 redirect", res.StatusCode, err)
			}
			q := loc.Query()
			if got := q.Get("error"); got != tt.wantError {
				t.Errorf("error = %q, want %q (%s)", got, tt.wantError, q.Get("error_description"))
			}
			if got := q.Get("iss"); got != ts.URL {
				t.Errorf("iss = %q, want %q", got, ts.URL)
			}
			if got, want := q.Get("state"), tt.query.Get("state"); got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
			if !strings.HasPrefix(loc.String(), redirectURI+"?") {
				t.Errorf("redirected to %s, want %s", loc, redirectURI)
			}
		})
	}

	// Errors about the client or its redirect URI: never redirected.
	shown := []struct {
		name  string
		query url.Values
		want  int
	}{
		{"unregistered redirect_uri", with("redirect_uri", "http://localhost/elsewhere"), http.StatusBadRequest},
		{"loopback redirect_uri on another port", with("redirect_uri", "http://127.0.0.1:8766/callback"), http.StatusBadRequest},
		{"redirect_uri with extra query", with("redirect_uri", redirectURI+"?x=1"), http.StatusBadRequest},
		{"unknown client", with("client_id", "nobody"), http.StatusUnauthorized},
		{"no client", with("client_id", ""), http.StatusUnauthorized},
	}
	for _, tt := range shown {
		t.Run(tt.name, func(t *testing.T) {
			authURL := ts.URL + "/authorize?" + tt.query.Encode()
			res, err := noRedirects.Get(authURL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want || res.Header.Get("Location") != "" {
				t.Errorf("status %d, Location %q; want %d and no redirect", res.StatusCode, res.Header.Get("Location"), tt.want)
			}
			var oerr struct{ Error string }
			if err := json.Unmarshal(body, &oerr); err != nil || oerr.Error == "" {
				t.Errorf("body %s: want a JSON error", body)
			}

			// Browsers get an HTML page.
			req, _ := http.NewRequest(http.MethodGet, authURL, nil)
			req.Header.Set("Accept", "text/html,application/xhtml+xml")
			res, err = noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want || !strings.Contains(string(body), oerr.Error) ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("browser: status %d, Content-Type %q, body:\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			checkStyleHash(t, res.Header.Get("Content-Security-Policy"), string(body))

			// Decide refuses as well, and approving changes nothing.
			if _, err := srv.Decide(authURL, true, username, password); !errors.Is(err, authserver.ErrNoRedirect) {
				t.Errorf("Decide: error %v, want ErrNoRedirect", err)
			}
		})
	}
}

func TestDeny(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read")
	loc, err := srv.Decide(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), false, "", "")
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	q := loc.Query()
	if got := q.Get("error"); got != "access_denied" {
		t.Errorf("error = %q, want access_denied", got)
	}
	checkRedirectState(t, q, ts.URL)
	if q.Has("code") {
		t.Errorf("redirect %s has a code", loc)
	}
}

// checkStyleHash checks that the CSP allows the page's one style element by its hash, and
// nothing inline besides.
func checkStyleHash(t *testing.T, csp, page string) {
	t.Helper()
	_, rest, ok := strings.Cut(page, "<style>")
	css, _, ok2 := strings.Cut(rest, "</style>")
	if !ok || !ok2 || strings.Count(page, "<style") != 1 {
		t.Fatalf("the page has no single style element")
	}
	sum := sha256.Sum256([]byte(css))
	want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"
	if !strings.Contains(csp, want) || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q, want %s and nothing inline else", csp, want)
	}
}
