package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"
)

// Fields of the consent form.
const (
	fieldQuery    = "query" // the query of the authorization request, as received
	fieldAction   = "action"
	fieldUsername = "username"
	fieldPassword = "password"
)

const maxFormBytes = 1 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.authorizePage)
	mux.HandleFunc("POST /authorize", s.authorizeDecision)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /revoke", s.revoke)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	mux.HandleFunc("GET /api/me", s.apiMe)
	return mux
}

// authorizePage serves GET /authorize: the consent page for a valid request, the error
// redirect or error page for an invalid one.
func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	ar, err := s.authorizeRequest(r.Context(), r)
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	renderConsent(w, http.StatusOK, consentPage{
		ClientID: ar.GetClient().GetID(),
		Scopes:   scopeViews(ar.GetRequestedScopes()),
		Query:    r.URL.RawQuery,
	})
}

// authorizeDecision serves POST /authorize, the consent form: the authorization request is
// validated again from the query the form carries, then approved or denied.
func (s *Server) authorizeDecision(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "authserver: unreadable form", http.StatusBadRequest)
		return
	}
	query := r.PostForm.Get(fieldQuery)
	ar, err := s.authorizeRequest(ctx, requestFromQuery(r, query))
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	page := consentPage{
		ClientID: ar.GetClient().GetID(),
		Scopes:   scopeViews(ar.GetRequestedScopes()),
		Query:    query,
		Username: r.PostForm.Get(fieldUsername),
	}
	switch r.PostForm.Get(fieldAction) {
	case "deny":
		s.writeAuthorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The resource owner denied the request."))
	case "approve":
		if !s.store.checkUser(page.Username, r.PostForm.Get(fieldPassword)) {
			page.Error = "Wrong username or password."
			renderConsent(w, http.StatusOK, page)
			return
		}
		// fosite has checked that the client may have every scope it asks for.
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
		resp, err := s.provider.NewAuthorizeResponse(ctx, ar, newSession(s.now, page.Username))
		if err != nil {
			s.writeAuthorizeError(w, r, ar, err)
			return
		}
		s.provider.WriteAuthorizeResponse(ctx, issuerRedirect{w, s.issuerFor(r)}, ar, resp)
	default:
		page.Error = "Choose Approve or Deny."
		renderConsent(w, http.StatusBadRequest, page)
	}
}

// requestFromQuery returns a GET request for the authorization request with the given query,
// for fosite, which reads the request's form: the consent form's own fields stay out of it.
func requestFromQuery(r *http.Request, query string) *http.Request {
	ar := r.Clone(r.Context())
	ar.Method = http.MethodGet
	ar.URL.RawQuery = query
	ar.Body = http.NoBody
	ar.ContentLength = 0
	ar.Header.Del("Content-Type")
	ar.Form, ar.PostForm, ar.MultipartForm = nil, nil, nil
	return ar
}

// authorizeRequest validates an authorization request with fosite, and two more rules:
//   - redirect_uri, when sent, must equal a registered redirect URI exactly (fosite lets a
//     loopback IP redirect URI take any port, as RFC 8252 section 7.3 asks);
//   - PKCE with S256 is checked now rather than only when the code is issued, so that no
//     consent page is shown for a request that would fail.
//
// On error the returned request says whether the error may be redirected to the client.
func (s *Server) authorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	q := r.URL.Query()
	if raw := q.Get("redirect_uri"); raw != "" {
		c, err := s.store.GetClient(ctx, q.Get("client_id"))
		if err == nil && !slices.Contains(c.GetRedirectURIs(), raw) {
			// A request without a valid redirect URI: the error is never redirected.
			return fosite.NewAuthorizeRequest(), fosite.ErrInvalidRequest.WithHint("The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.")
		}
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		return ar, err
	}
	// The same checks, and hints, as fosite's PKCE handler, which makes them again on approval.
	form := ar.GetRequestForm()
	if form.Get("code_challenge") == "" {
		return ar, fosite.ErrInvalidRequest.
			WithHint("Clients must include a code_challenge when performing the authorize code flow, but it is missing.")
	}
	if m := form.Get("code_challenge_method"); m != "S256" {
		if m == "" || m == "plain" {
			return ar, fosite.ErrInvalidRequest.WithHint("Clients must use code_challenge_method=S256, plain is not allowed.")
		}
		return ar, fosite.ErrInvalidRequest.WithHint("The code_challenge_method is not supported, use S256 instead.")
	}
	return ar, nil
}

// writeAuthorizeError answers an authorization request with an error: a redirect to the
// client, with iss, when the request has a valid redirect URI; otherwise an error page (HTML
// for browsers, fosite's JSON for the rest).
func (s *Server) writeAuthorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	ctx := r.Context()
	if !ar.IsRedirectURIValid() {
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			rfc := fosite.ErrorToRFC6749Error(err)
			renderError(w, rfc.CodeField, errorPage{Error: rfc.ErrorField, Description: rfc.GetDescription()})
			return
		}
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	// Only the query response mode is served, so errors go back in the query, with iss, even
	// for a request that asked for another response mode.
	if a, ok := ar.(*fosite.AuthorizeRequest); ok {
		a.ResponseMode = fosite.ResponseModeQuery
	}
	s.provider.WriteAuthorizeError(ctx, issuerRedirect{w, s.issuerFor(r)}, ar, err)
}

// issuerRedirect adds the RFC 9207 iss parameter to the query of the redirects written
// through it.
type issuerRedirect struct {
	http.ResponseWriter
	issuer string
}

func (w issuerRedirect) WriteHeader(code int) {
	if loc := w.Header().Get("Location"); code/100 == 3 && loc != "" {
		if u, err := url.Parse(loc); err == nil {
			q := u.Query()
			q.Set("iss", w.issuer)
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

type consentPage struct {
	ClientID string
	Scopes   []scopeView
	Query    string // the authorization request's query, carried by the form
	Username string
	Error    string
}

type scopeView struct{ Name, Note string }

var scopeNotes = map[string]string{
	"offline_access": "stay connected when you are away (a refresh token)",
	"offline":        "stay connected when you are away (a refresh token)",
	"openid":         "know who you are",
}

func scopeViews(scopes []string) []scopeView {
	v := make([]scopeView, len(scopes))
	for i, sc := range scopes {
		v[i] = scopeView{Name: sc, Note: scopeNotes[sc]}
	}
	return v
}

type errorPage struct{ Error, Description string }

func setPageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
}

func renderConsent(w http.ResponseWriter, code int, p consentPage) {
	setPageHeaders(w.Header())
	w.WriteHeader(code)
	_ = pages.ExecuteTemplate(w, "consent", p)
}

func renderError(w http.ResponseWriter, code int, p errorPage) {
	setPageHeaders(w.Header())
	w.WriteHeader(code)
	_ = pages.ExecuteTemplate(w, "error", p)
}

// pageCSS is the pages' style sheet, inline so that the server serves nothing else, and
// allowed by its hash alone.
const pageCSS = `:root {
  color-scheme: light dark;
  --bg: #f2f4f8; --card: #ffffff; --fg: #1c2230; --muted: #5c6577; --border: #d8dde7;
  --accent: #2563eb; --accent-fg: #ffffff; --danger: #b42318; --danger-bg: #fef3f2;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #10131a; --card: #1a1f2b; --fg: #e6e9f0; --muted: #9aa3b5; --border: #2e3545;
    --accent: #4f8bff; --danger: #ff8a80; --danger-bg: #3a1d1d;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; min-height: 100vh; display: grid; place-items: center; padding: .75rem;
  background: var(--bg); color: var(--fg);
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
main {
  width: 100%; max-width: 26rem; background: var(--card); border: 1px solid var(--border);
  border-radius: 12px; padding: 1.1rem 1.4rem; box-shadow: 0 10px 30px rgba(16, 24, 40, .08);
}
.brand { font-size: .75rem; letter-spacing: .08em; text-transform: uppercase; color: var(--muted); margin: 0 0 .5rem; }
h1 { font-size: 1.2rem; line-height: 1.25; margin: 0 0 .35rem; }
p { margin: 0 0 .5rem; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.client { font-weight: 650; overflow-wrap: anywhere; }
ul.scopes { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .35rem; }
ul.scopes li { padding: .2rem .6rem; border: 1px solid var(--border); border-radius: 8px; overflow-wrap: anywhere; }
ul.scopes .note { color: var(--muted); font-size: .8rem; margin-left: .35rem; }
.error { background: var(--danger-bg); color: var(--danger); border-radius: 8px; padding: .45rem .75rem; margin: .6rem 0 0; }
form { margin-top: .6rem; }
label { display: block; font-size: .85rem; font-weight: 600; margin: .5rem 0 .2rem; }
input[type=text], input[type=password] {
  width: 100%; padding: .45rem .65rem; font: inherit; color: inherit; background: transparent;
  border: 1px solid var(--border); border-radius: 8px;
}
input:focus-visible, button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.actions { display: flex; gap: .75rem; margin-top: .9rem; }
.actions button { flex: 1; padding: .55rem 1rem; font: inherit; font-weight: 600; border-radius: 8px; cursor: pointer; }
#approve { order: 2; background: var(--accent); color: var(--accent-fg); border: 1px solid var(--accent); }
#deny { order: 1; background: transparent; color: var(--fg); border: 1px solid var(--border); }
#approve:hover { filter: brightness(1.08); }
#deny:hover { background: var(--bg); }
.foot { margin: .75rem 0 0; font-size: .75rem; color: var(--muted); text-align: center; }
`

// pageCSP allows the pages their style sheet and nothing else: no script, no other origin.
// It sets no form-action: browsers apply it to the redirect that follows the consent form,
// to the client's redirect URI.
var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; frame-ancestors 'none'; base-uri 'none'"
}()

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	// template.CSS: the style sheet is ours, and must reach the page byte for byte to match
	// its hash.
	"css": func() template.CSS { return template.CSS(pageCSS) },
}).Parse(`
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>{{css}}</style>
</head>
<body>
<main>
<p class="brand">Test authorization server</p>
{{end}}

{{define "foot"}}<p class="foot">For tests and demos on loopback, not for production.</p>
</main>
</body>
</html>
{{end}}

{{define "consent"}}{{template "head" printf "Authorize %s" .ClientID}}
<h1>Authorize <span class="client" id="client">{{.ClientID}}</span></h1>
<p>This application asks for access to your account.</p>
{{if .Scopes}}<p>It asks for:</p>
<ul class="scopes" id="scopes">{{range .Scopes}}
<li><code>{{.Name}}</code>{{with .Note}}<span class="note">{{.}}</span>{{end}}</li>{{end}}
</ul>{{else}}<p>It asks for no particular scope.</p>{{end}}
{{with .Error}}<p class="error" id="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="authorize">
<input type="hidden" name="query" value="{{.Query}}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions">
<button type="submit" id="approve" name="action" value="approve">Approve</button>
<button type="submit" id="deny" name="action" value="deny" formnovalidate>Deny</button>
</div>
</form>
{{template "foot"}}{{end}}

{{define "error"}}{{template "head" "Authorization error"}}
<h1>The request cannot be authorized</h1>
<p class="error" id="error" role="alert"><code>{{.Error}}</code></p>
{{with .Description}}<p>{{.}}</p>{{end}}
<p>The client or its redirect URI is not registered, so you are not sent back to the application.</p>
{{template "foot"}}{{end}}
`))
