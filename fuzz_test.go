package connect_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect"
)

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
