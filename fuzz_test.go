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

func FuzzAdditionalParams(f *testing.F) {
	for _, s := range []string{
		"", "a=1", "a=1&b=2", "state=x", " state=x", "state%00=x", "a=x%26client_id%3Devil", "a=x%23frag",
		"a=%zz", "a=1&&b=2", "a=1;b=2", "approval_prompt=force", "a=%C3%A9", "a=%FF", "a=x%0D%0AY", "A=1&a=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, extra string) {
		p := baseParams()
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
