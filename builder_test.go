package connect_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect"
)

const testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

func baseParams() connect.AuthorizeParams {
	return connect.AuthorizeParams{
		AuthorizeURL:  "https://auth.example.com/oauth/authorize",
		ClientID:      "client-1",
		RedirectURI:   "https://app.example.com/callbacks/v1/oauth",
		State:         "state-123",
		Scopes:        []string{"read", "write"},
		CodeChallenge: testChallenge,
	}
}

// build runs the builder and parses its URL.
func build(t *testing.T, p connect.AuthorizeParams) (string, url.Values) {
	t.Helper()
	raw, err := connect.AuthorizeURL(p)
	if err != nil {
		t.Fatalf("AuthorizeURL: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("result does not parse: %v", err)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		t.Fatalf("result %q has a fragment", raw)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("result query does not parse: %v", err)
	}
	return raw, q
}

func TestAuthorizeURLDefaults(t *testing.T) {
	raw, q := build(t, baseParams())
	want := "https://auth.example.com/oauth/authorize?response_type=code&client_id=client-1" +
		"&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallbacks%2Fv1%2Foauth&scope=read+write+offline_access" +
		"&state=state-123&prompt=login&code_challenge=" + testChallenge + "&code_challenge_method=S256"
	if raw != want {
		t.Errorf("AuthorizeURL =\n%s\nwant\n%s", raw, want)
	}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "prompt", "code_challenge", "code_challenge_method"} {
		if got := len(q[k]); got != 1 {
			t.Errorf("parameter %s appears %d times, want 1", k, got)
		}
	}
}

func TestAuthorizeURLPrompt(t *testing.T) {
	tests := []struct {
		name      string
		prompt    string
		extra     string
		noPrompt  bool
		want      []string // nil: no prompt parameter
		wantInRaw string
	}{
		{name: "default login", want: []string{"login"}},
		{name: "approval_prompt suppresses the default", extra: "approval_prompt=force", want: nil},
		{name: "approval_prompt any case", extra: "Approval_Prompt=force", want: nil},
		{name: "no prompt for the provider", noPrompt: true, want: nil},
		{name: "explicit prompt beats approval_prompt", prompt: "consent", extra: "approval_prompt=force", want: []string{"consent"}},
		{name: "consent", prompt: "consent", want: []string{"consent"}},
		{name: "plus joined", prompt: "consent+select_account", want: []string{"consent select_account"}, wantInRaw: "prompt=consent+select_account&"},
		{name: "space joined", prompt: "consent select_account", want: []string{"consent select_account"}, wantInRaw: "prompt=consent+select_account&"},
		{name: "duplicates dropped", prompt: "consent consent", want: []string{"consent"}},
		{name: "order kept", prompt: "select_account+consent+select_account", want: []string{"select_account consent"}},
		{name: "arbitrary token accepted", prompt: "create", want: []string{"create"}},
		{name: "none alone", prompt: "none", want: []string{"none"}},
		{name: "none twice is none", prompt: "none+none", want: []string{"none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseParams()
			p.Prompt, p.AdditionalParams, p.NoPrompt = tt.prompt, tt.extra, tt.noPrompt
			if tt.prompt == "none" || tt.prompt == "none+none" {
				p.DisableOfflineAccess = true
			}
			raw, q := build(t, p)
			if diff := cmp.Diff(tt.want, q["prompt"]); diff != "" {
				t.Errorf("prompt (-want +got):\n%s", diff)
			}
			if strings.Contains(raw, "%2B") {
				t.Errorf("URL %q encodes + as %%2B", raw)
			}
			if tt.wantInRaw != "" && !strings.Contains(raw, tt.wantInRaw) {
				t.Errorf("URL %q does not contain %q", raw, tt.wantInRaw)
			}
		})
	}
}

func TestAuthorizeURLPromptErrors(t *testing.T) {
	for _, prompt := range []string{
		"none+login", "login none", "consent+none", "LOGIN", "Consent", "consent%20x",
		"consent&client_id=e", "consent++login", "+consent", "consent ", "con-sent", "1login",
		"a+b+c+d+e+f+g+h+i", strings.Repeat("a", 257),
	} {
		t.Run(prompt, func(t *testing.T) {
			p := baseParams()
			p.Prompt = prompt
			p.DisableOfflineAccess = true
			_, err := connect.AuthorizeURL(p)
			if !errors.Is(err, connect.ErrInvalidPrompt) || !errors.Is(err, connect.ErrInvalidRequest) {
				t.Fatalf("AuthorizeURL(prompt %q) error = %v, want ErrInvalidPrompt", prompt, err)
			}
			if !strings.Contains(err.Error(), "prompt:") {
				t.Errorf("error %q does not name the prompt field", err)
			}
		})
	}
}

func TestAuthorizeURLPromptNoneWithOfflineAccess(t *testing.T) {
	p := baseParams()
	p.Prompt = "none"
	if _, err := connect.AuthorizeURL(p); !errors.Is(err, connect.ErrInvalidPrompt) {
		t.Errorf("prompt none with offline_access: error = %v, want ErrInvalidPrompt", err)
	}
	p.DisableOfflineAccess = true
	p.Scopes = []string{"offline_access"}
	if _, err := connect.AuthorizeURL(p); !errors.Is(err, connect.ErrInvalidPrompt) {
		t.Errorf("prompt none with an offline_access scope: error = %v, want ErrInvalidPrompt", err)
	}
}

func TestAuthorizeURLScopes(t *testing.T) {
	tests := []struct {
		name    string
		scopes  []string
		sep     string
		disable bool
		want    []string // parsed scope parameter; nil for none
		raw     string   // substring of the raw URL
	}{
		{name: "offline added", scopes: []string{"a"}, want: []string{"a offline_access"}},
		{name: "offline once when given", scopes: []string{"offline_access", "a"}, want: []string{"offline_access a"}},
		{name: "offline disabled", scopes: []string{"a"}, disable: true, want: []string{"a"}},
		{name: "only offline", want: []string{"offline_access"}},
		{name: "no scope at all", disable: true, want: nil},
		{name: "duplicates dropped in order", scopes: []string{"b", "a", "b", "c", "a"}, disable: true, want: []string{"b a c"}},
		{name: "comma separator", scopes: []string{"a", "b"}, sep: ",", want: []string{"a,b,offline_access"}, raw: "scope=a%2Cb%2Coffline_access&"},
		{name: "urls as scopes", scopes: []string{"https://www.googleapis.com/auth/drive"}, disable: true, want: []string{"https://www.googleapis.com/auth/drive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseParams()
			p.Scopes, p.ScopeSeparator, p.DisableOfflineAccess = tt.scopes, tt.sep, tt.disable
			raw, q := build(t, p)
			if diff := cmp.Diff(tt.want, q["scope"]); diff != "" {
				t.Errorf("scope (-want +got):\n%s", diff)
			}
			if tt.raw != "" && !strings.Contains(raw, tt.raw) {
				t.Errorf("URL %q does not contain %q", raw, tt.raw)
			}
		})
	}
}

func TestAuthorizeURLScopeErrors(t *testing.T) {
	many := make([]string, 51)
	for i := range many {
		many[i] = "s" + strings.Repeat("x", i)
	}
	tests := []struct {
		name   string
		scopes []string
		sep    string
		field  string
	}{
		{"space inside", []string{"read write"}, "", "scopes[0]"},
		{"double quote", []string{"ok", `a"b`}, "", "scopes[1]"},
		{"backslash", []string{`a\b`}, "", "scopes[0]"},
		{"empty", []string{""}, "", "scopes[0]"},
		{"control", []string{"a\nb"}, "", "scopes[0]"},
		{"non-ASCII", []string{"é"}, "", "scopes[0]"},
		{"too long", []string{strings.Repeat("a", 257)}, "", "scopes[0]"},
		{"too many", many, "", "scopes"},
		{"comma token with comma separator", []string{"read,admin"}, ",", "scopes[0]"},
		{"bad separator", []string{"a"}, ";", "scopeSeparator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseParams()
			p.Scopes, p.ScopeSeparator = tt.scopes, tt.sep
			_, err := connect.AuthorizeURL(p)
			assertField(t, err, tt.field)
		})
	}
}

func TestAuthorizeURLAdditionalParams(t *testing.T) {
	tests := []struct {
		name  string
		base  string
		extra string
		want  map[string][]string
		tail  string // expected end of the raw URL
	}{
		{name: "appended in order", extra: "audience=api.example.com&access_type=offline",
			want: map[string][]string{"audience": {"api.example.com"}, "access_type": {"offline"}},
			tail: "&audience=api.example.com&access_type=offline"},
		{name: "empty value", extra: "hd=", want: map[string][]string{"hd": {""}}, tail: "&hd="},
		{name: "escaped value re-escaped", extra: "x=a%26client_id%3Devil", want: map[string][]string{"x": {"a&client_id=evil"}}, tail: "&x=a%26client_id%3Devil"},
		{name: "hash stays in the value", extra: "x=a%23frag", want: map[string][]string{"x": {"a#frag"}}},
		{name: "plus is a space", extra: "x=a+b", want: map[string][]string{"x": {"a b"}}, tail: "&x=a+b"},
		{name: "unicode", extra: "x=%C3%A9t%C3%A9", want: map[string][]string{"x": {"été"}}},
		{name: "own query kept", base: "https://auth.example.com/authorize?tenant=acme", extra: "x=1",
			want: map[string][]string{"tenant": {"acme"}, "x": {"1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseParams()
			if tt.base != "" {
				p.AuthorizeURL = tt.base
			}
			p.AdditionalParams = tt.extra
			raw, q := build(t, p)
			for k, v := range tt.want {
				if diff := cmp.Diff(v, q[k]); diff != "" {
					t.Errorf("param %s (-want +got):\n%s", k, diff)
				}
			}
			if len(q["client_id"]) != 1 || q.Get("client_id") != "client-1" {
				t.Errorf("client_id = %q, want exactly [client-1]", q["client_id"])
			}
			if tt.tail != "" && !strings.HasSuffix(raw, tt.tail) {
				t.Errorf("URL %q does not end with %q", raw, tt.tail)
			}
			if tt.base != "" && !strings.HasPrefix(raw, tt.base+"&response_type=code&") {
				t.Errorf("URL %q does not keep the authorize URL's own query first", raw)
			}
		})
	}
}

func TestAuthorizeURLAdditionalParamErrors(t *testing.T) {
	reserved := []string{
		"response_type", "client_id", "redirect_uri", "scope", "state", "prompt",
		"code_challenge", "code_challenge_method", "nonce", "request_uri", "request", "response_mode",
		"STATE", "Redirect_URI", "Client_Id",
	}
	type errCase struct {
		name     string
		base     string
		extra    string
		field    string
		reserved bool
	}
	var tests []errCase
	for _, k := range reserved {
		tests = append(tests, errCase{name: "reserved " + k, extra: "a=1&" + k + "=x", field: "additionalParams." + k, reserved: true})
	}
	tests = append(tests,
		errCase{name: "space before state", extra: "%20state=x", field: "additionalParams.state", reserved: true},
		errCase{name: "raw space before state", extra: " state=x", field: "additionalParams.state", reserved: true},
		errCase{name: "state with NUL", extra: "state%00=x", field: "additionalParams.state", reserved: true},
		errCase{name: "collides with the authorize URL", base: "https://auth.example.com/a?audience=x", extra: "AUDIENCE=y", field: "additionalParams.AUDIENCE", reserved: true},
		errCase{name: "no equals", extra: "a", field: "additionalParams"},
		errCase{name: "empty key", extra: "=x", field: "additionalParams"},
		errCase{name: "empty pair", extra: "a=1&&b=2", field: "additionalParams"},
		errCase{name: "trailing ampersand", extra: "a=1&", field: "additionalParams"},
		errCase{name: "leading ampersand", extra: "&a=1", field: "additionalParams"},
		errCase{name: "leading question mark", extra: "?a=1", field: "additionalParams"},
		errCase{name: "semicolon", extra: "a=1;b=2", field: "additionalParams.a"},
		errCase{name: "bad escape", extra: "a=%zz", field: "additionalParams.a"},
		errCase{name: "truncated escape", extra: "a=%4", field: "additionalParams.a"},
		errCase{name: "escaped key", extra: "a%62=1", field: "additionalParams"},
		errCase{name: "duplicate key", extra: "a=1&b=2&A=3", field: "additionalParams.A"},
		errCase{name: "CRLF in value", extra: "a=x%0D%0AY", field: "additionalParams.a"},
		errCase{name: "NUL in value", extra: "a=x%00", field: "additionalParams.a"},
		errCase{name: "C1 control in value", extra: "a=%C2%85", field: "additionalParams.a"},
		errCase{name: "invalid UTF-8", extra: "a=%FF", field: "additionalParams.a"},
		errCase{name: "value too long", extra: "a=" + strings.Repeat("x", 1025), field: "additionalParams.a"},
		errCase{name: "too many", extra: manyParams(33), field: "additionalParams"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseParams()
			if tt.base != "" {
				p.AuthorizeURL = tt.base
			}
			p.AdditionalParams = tt.extra
			_, err := connect.AuthorizeURL(p)
			assertField(t, err, tt.field)
			if got := errors.Is(err, connect.ErrReservedParam); got != tt.reserved {
				t.Errorf("errors.Is(err, ErrReservedParam) = %v, want %v (err %v)", got, tt.reserved, err)
			}
		})
	}
	// The limits themselves are accepted.
	p := baseParams()
	p.AdditionalParams = manyParams(32) + "&last=" + strings.Repeat("x", 1024)
	p.AdditionalParams = manyParams(31) + "&last=" + strings.Repeat("x", 1024)
	if _, err := connect.AuthorizeURL(p); err != nil {
		t.Errorf("32 params, a 1024-octet value: %v", err)
	}
}

// TestAuthorizeURLRespeltParams refuses the keys that a server rewriting parameter names
// reads as a reserved parameter or one the authorize URL carries: PHP reads "redirect.uri",
// "redirect uri", "redirect[uri" and "redirect_uri[]" all as redirect_uri, and keeps the last.
func TestAuthorizeURLRespeltParams(t *testing.T) {
	tests := []struct {
		name     string
		base     string
		extra    string
		field    string
		reserved bool
	}{
		{name: "dot in redirect_uri", extra: "redirect.uri=https%3A%2F%2Fevil.example%2Fcb", field: "additionalParams.redirect.uri", reserved: true},
		{name: "dot in client_id", extra: "client.id=evil", field: "additionalParams.client.id", reserved: true},
		{name: "dot in response_type", extra: "response.type=token", field: "additionalParams.response.type", reserved: true},
		{name: "dot in code_challenge", extra: "code.challenge=x", field: "additionalParams.code.challenge", reserved: true},
		{name: "dots in code_challenge_method", extra: "code.challenge.method=plain", field: "additionalParams.code.challenge.method", reserved: true},
		{name: "one dot in code_challenge_method", extra: "code_challenge.method=plain", field: "additionalParams.code_challenge.method", reserved: true},
		{name: "dot and case", extra: "a=1&Redirect.URI=x", field: "additionalParams.Redirect.URI", reserved: true},
		{name: "dot in nonce's neighbour", extra: "response.mode=form_post", field: "additionalParams.response.mode", reserved: true},
		{name: "escaped dot", extra: "redirect%2Euri=x", field: "additionalParams.redirect_uri", reserved: true},
		{name: "escaped space", extra: "redirect%20uri=x", field: "additionalParams.redirect_uri", reserved: true},
		{name: "plus as space", extra: "redirect+uri=x", field: "additionalParams.redirect_uri", reserved: true},
		{name: "raw space", extra: "redirect uri=x", field: "additionalParams.redirect_uri", reserved: true},
		{name: "open bracket", extra: "redirect[uri=x", field: "additionalParams.redirect_uri", reserved: true},
		{name: "escaped open bracket", extra: "redirect%5Buri=x", field: "additionalParams.redirect_uri", reserved: true},
		{name: "array", extra: "redirect_uri[]=x", field: "additionalParams.redirect_uri", reserved: true},
		{name: "escaped array", extra: "state%5B0%5D=x", field: "additionalParams.state", reserved: true},
		{name: "tab after", extra: "state%09=x", field: "additionalParams.state", reserved: true},
		{name: "escaped upper case", extra: "%53TATE=x", field: "additionalParams.state", reserved: true},
		{name: "re-spelt fixed parameter", base: "https://auth.example.com/a?access_type=offline", extra: "access.type=online",
			field: "additionalParams.access.type", reserved: true},
		{name: "re-spelt fixed parameter, other case", base: "https://auth.example.com/a?access.type=offline", extra: "Access_Type=online",
			field: "additionalParams.Access_Type", reserved: true},
		{name: "re-spelt twice", extra: "login.hint=a&login_hint=b", field: "additionalParams.login_hint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseParams()
			if tt.base != "" {
				p.AuthorizeURL = tt.base
			}
			p.AdditionalParams = tt.extra
			u, err := connect.AuthorizeURL(p)
			if err == nil {
				t.Fatalf("AuthorizeURL = %q, want an error", u)
			}
			assertField(t, err, tt.field)
			if got := errors.Is(err, connect.ErrReservedParam); got != tt.reserved {
				t.Errorf("errors.Is(err, ErrReservedParam) = %v, want %v (err %v)", got, tt.reserved, err)
			}
		})
	}
	// approval_prompt re-spelt is approval_prompt: no default prompt beside it.
	p := baseParams()
	p.AdditionalParams = "approval.prompt=force"
	if _, q := build(t, p); q.Has("prompt") {
		t.Errorf("prompt = %q beside approval.prompt, want none", q["prompt"])
	}
}

func manyParams(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "p" + strings.Repeat("x", i) + "=1"
	}
	return strings.Join(parts, "&")
}

func TestAuthorizeURLEndpointErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*connect.AuthorizeParams)
		field string
	}{
		{"missing authorize URL", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "" }, "authorizeUrl"},
		{"relative", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "/oauth/authorize" }, "authorizeUrl"},
		{"plain http", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "http://auth.example.com/a" }, "authorizeUrl"},
		{"http localhost name", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "http://localhost.evil.com/a" }, "authorizeUrl"},
		{"other scheme", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "javascript://auth.example.com/a" }, "authorizeUrl"},
		{"fragment", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a#x" }, "authorizeUrl"},
		{"empty fragment", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a#" }, "authorizeUrl"},
		{"user info", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://user@auth.example.com/a" }, "authorizeUrl"},
		{"space", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a b" }, "authorizeUrl"},
		{"reserved in its query", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a?state=x" }, "authorizeUrl"},
		{"reserved in its query any case", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a?Client_ID=x" }, "authorizeUrl"},
		{"reserved re-spelt in its query", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a?redirect.uri=x" }, "authorizeUrl"},
		{"a key twice in its query", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a?tenant=x&Tenant=y" }, "authorizeUrl"},
		{"a key re-spelt in its query", func(p *connect.AuthorizeParams) {
			p.AuthorizeURL = "https://auth.example.com/a?tenant_id=x&tenant.id=y"
		}, "authorizeUrl"},
		{"bad escape in its query", func(p *connect.AuthorizeParams) { p.AuthorizeURL = "https://auth.example.com/a?x=%zz" }, "authorizeUrl"},
		{"too long", func(p *connect.AuthorizeParams) {
			p.AuthorizeURL = "https://auth.example.com/" + strings.Repeat("a", 2048)
		}, "authorizeUrl"},
		{"missing client id", func(p *connect.AuthorizeParams) { p.ClientID = "" }, "clientId"},
		{"client id with newline", func(p *connect.AuthorizeParams) { p.ClientID = "a\nb" }, "clientId"},
		{"missing redirect", func(p *connect.AuthorizeParams) { p.RedirectURI = "" }, "redirectUri"},
		{"redirect plain http", func(p *connect.AuthorizeParams) { p.RedirectURI = "http://app.example.com/cb" }, "redirectUri"},
		{"redirect fragment", func(p *connect.AuthorizeParams) { p.RedirectURI = "https://app.example.com/cb#x" }, "redirectUri"},
		{"redirect relative", func(p *connect.AuthorizeParams) { p.RedirectURI = "/cb" }, "redirectUri"},
		{"missing state", func(p *connect.AuthorizeParams) { p.State = "" }, "state"},
		{"state with CRLF", func(p *connect.AuthorizeParams) { p.State = "a\r\nb" }, "state"},
		{"state too long", func(p *connect.AuthorizeParams) { p.State = strings.Repeat("s", 513) }, "state"},
		{"challenge too short", func(p *connect.AuthorizeParams) { p.CodeChallenge = "abc" }, "codeChallenge"},
		{"challenge bad chars", func(p *connect.AuthorizeParams) { p.CodeChallenge = strings.Repeat("+", 43) }, "codeChallenge"},
		{"URL over 8000 octets", func(p *connect.AuthorizeParams) {
			p.AdditionalParams = manyParams(8) + "&big=" + strings.Repeat("%C3%A9", 500) + "&big2=" + strings.Repeat("%C3%A9", 500) + "&big3=" + strings.Repeat("%C3%A9", 500)
		}, "authorizeUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseParams()
			tt.edit(&p)
			u, err := connect.AuthorizeURL(p)
			if u != "" {
				t.Errorf("AuthorizeURL returned %q with an error", u)
			}
			assertField(t, err, tt.field)
		})
	}
}

func TestAuthorizeURLLoopbackHTTP(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:8080/authorize", "http://[::1]:9000/authorize"} {
		p := baseParams()
		p.AuthorizeURL = base
		p.RedirectURI = "http://127.0.0.1:3000/callback"
		raw, _ := build(t, p)
		if !strings.HasPrefix(raw, base+"?") {
			t.Errorf("URL %q does not start with %q", raw, base)
		}
	}
}

func TestAuthorizeURLNoPKCE(t *testing.T) {
	p := baseParams()
	p.CodeChallenge = ""
	_, q := build(t, p)
	if q.Has("code_challenge") || q.Has("code_challenge_method") {
		t.Errorf("query %v has PKCE parameters without a challenge", q)
	}
}

func TestAuthorizeURLErrorsKeepSecretsOut(t *testing.T) {
	const sentinel = "SENTINELVALUE"
	p := baseParams()
	p.AdditionalParams = "token=" + sentinel + "%0A"
	_, err := connect.AuthorizeURL(p)
	if err == nil || strings.Contains(err.Error(), sentinel) {
		t.Errorf("error %v is nil or repeats the value", err)
	}
	p = baseParams()
	p.State = sentinel + "\n"
	_, err = connect.AuthorizeURL(p)
	if err == nil || strings.Contains(err.Error(), sentinel) {
		t.Errorf("error %v is nil or repeats the state", err)
	}
}

// reservedKeys are the parameters the builder sets itself.
var reservedKeys = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "prompt", "code_challenge", "code_challenge_method"}

// phpName is the name PHP reads for a decoded query key (php_register_variable_ex): leading
// spaces dropped, the name read up to a NUL, "." and " " made "_", and a "[" that a "]"
// follows ending the name (an array), any other "[" made "_"; in lower case too, for the
// servers that ignore case.
func phpName(key string) string {
	key = strings.TrimLeft(key, " ")
	if i := strings.IndexByte(key, 0); i >= 0 {
		key = key[:i]
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case ' ', '.':
			b.WriteByte('_')
		case '[':
			if !strings.Contains(key[i:], "]") {
				b.WriteByte('_')
				b.WriteString(key[i+1:])
			}
			return strings.ToLower(b.String())
		default:
			b.WriteByte(c)
		}
	}
	return strings.ToLower(b.String())
}

func FuzzAdditionalParams(f *testing.F) {
	for _, s := range []string{
		"", "a=1", "a=1&b=2", "state=x", " state=x", "state%00=x", "a=x%26client_id%3Devil", "a=x%23frag",
		"a=%zz", "a=1&&b=2", "a=1;b=2", "approval_prompt=force", "a=%C3%A9", "a=%FF", "a=x%0D%0AY", "A=1&a=2",
		"redirect.uri=x", "client.id=x", "response.type=token", "code.challenge=x", "code.challenge.method=plain",
		"redirect%2Euri=x", "redirect%20uri=x", "redirect+uri=x", "redirect[uri=x", "redirect_uri[]=x",
		"Access.Type=online", "a.b=1&a_b=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, extra string) {
		p := baseParams()
		p.AuthorizeURL += "?access_type=offline" // a parameter the provider fixes
		p.AdditionalParams = extra
		raw, err := connect.AuthorizeURL(p)
		if err != nil {
			if !errors.Is(err, connect.ErrInvalidRequest) {
				t.Fatalf("error %v does not match ErrInvalidRequest", err)
			}
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Fragment != "" || strings.Contains(raw, "#") {
			t.Fatalf("URL %q: parse error %v or a fragment", raw, err)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("URL query %q does not parse: %v", u.RawQuery, err)
		}
		for _, k := range reservedKeys {
			if k == "prompt" && len(q[k]) == 0 {
				continue // approval_prompt suppresses the default
			}
			if len(q[k]) != 1 {
				t.Fatalf("%s appears %d times in %q", k, len(q[k]), raw)
			}
		}
		// A server that rewrites names as PHP does reads no parameter twice: neither a reserved
		// nor a fixed one can be given again under another spelling.
		seen := map[string]string{}
		for _, pair := range strings.Split(u.RawQuery, "&") {
			rawKey, _, _ := strings.Cut(pair, "=")
			key, err := url.QueryUnescape(rawKey)
			if err != nil {
				t.Fatalf("key %q in %q does not decode: %v", rawKey, raw, err)
			}
			name := phpName(key)
			if prev, ok := seen[name]; ok {
				t.Fatalf("%q and %q are both read as %q in %q", prev, key, name, raw)
			}
			seen[name] = key
		}
		if q.Get("client_id") != p.ClientID || q.Get("state") != p.State || q.Get("redirect_uri") != p.RedirectURI {
			t.Fatalf("a reserved parameter changed: %q", raw)
		}
		// What the builder accepted, net/url reads the same way.
		want, err := url.ParseQuery(extra)
		if err != nil {
			t.Fatalf("accepted %q, which net/url rejects: %v", extra, err)
		}
		for k, v := range want {
			if !slices.Equal(q[k], v) {
				t.Fatalf("param %q = %q in the URL, want %q", k, q[k], v)
			}
		}
	})
}

func FuzzPrompt(f *testing.F) {
	for _, s := range []string{"", "login", "consent+select_account", "consent select_account", "none", "none+login",
		"LOGIN", "consent%20x", "consent&client_id=e", "a+a+b", "+", " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, prompt string) {
		p := baseParams()
		p.Prompt = prompt
		p.DisableOfflineAccess = true
		raw, err := connect.AuthorizeURL(p)
		if err != nil {
			if !errors.Is(err, connect.ErrInvalidPrompt) {
				t.Fatalf("prompt %q: error %v does not match ErrInvalidPrompt", prompt, err)
			}
			return
		}
		if strings.Contains(raw, "%2B") {
			t.Fatalf("URL %q encodes + as %%2B", raw)
		}
		u, _ := url.Parse(raw)
		got := u.Query()["prompt"]
		if len(got) != 1 {
			t.Fatalf("prompt appears %d times", len(got))
		}
		values := strings.Split(got[0], " ")
		for i, v := range values {
			if v == "" || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" || slices.Contains(values[:i], v) {
				t.Fatalf("prompt %q gave values %q", prompt, values)
			}
		}
		if slices.Contains(values, "none") && len(values) > 1 {
			t.Fatalf("prompt %q gave none with other values", prompt)
		}
		if prompt != "" {
			norm := strings.Fields(strings.ReplaceAll(prompt, "+", " "))
			if !slices.Equal(slices.Compact(slices.Clone(values)), values) || len(norm) < len(values) {
				t.Fatalf("prompt %q gave %q", prompt, values)
			}
		}
	})
}

// TestAuthorizeURLClientIDParam: a provider's own name for the client id (TikTok's
// client_key) replaces client_id, and nothing else may set it.
func TestAuthorizeURLClientIDParam(t *testing.T) {
	p := baseParams()
	p.ClientIDParam = "client_key"
	_, q := build(t, p)
	if q.Get("client_key") != "client-1" || q.Has("client_id") || len(q["client_key"]) != 1 {
		t.Errorf("query %v: want the client id as client_key only", q)
	}
	for _, tc := range []struct {
		name, field string
		edit        func(*connect.AuthorizeParams)
		reserved    bool
	}{
		{"set again in additionalParams", "additionalParams.client_key",
			func(p *connect.AuthorizeParams) { p.AdditionalParams = "client_key=evil" }, true},
		{"respelt in additionalParams", "additionalParams.Client.Key",
			func(p *connect.AuthorizeParams) { p.AdditionalParams = "Client.Key=evil" }, true},
		{"in the authorize URL", "authorizeUrl",
			func(p *connect.AuthorizeParams) { p.AuthorizeURL += "?client_key=evil" }, true},
		{"a parameter the builder sets", "clientIdParam",
			func(p *connect.AuthorizeParams) { p.ClientIDParam = "state" }, false},
		{"not a plain name", "clientIdParam",
			func(p *connect.AuthorizeParams) { p.ClientIDParam = "client key" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := baseParams()
			p.ClientIDParam = "client_key"
			tc.edit(&p)
			_, err := connect.AuthorizeURL(p)
			assertField(t, err, tc.field)
			if errors.Is(err, connect.ErrReservedParam) != tc.reserved {
				t.Errorf("AuthorizeURL = %v; matches ErrReservedParam: %v, want %v", err, !tc.reserved, tc.reserved)
			}
		})
	}
}
