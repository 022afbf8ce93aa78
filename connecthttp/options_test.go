package connecthttp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
)

// newError returns the error of connecthttp.New over the fixture's connector and keys as a
// string, or "". A panic fails the test: a bad configuration must be an error.
func newError(t *testing.T, f *fixture, opts ...connecthttp.Option) string {
	t.Helper()
	return newErrorWithKeys(t, f.c, f.keys, opts...)
}

// newErrorWithKeys is newError with the given keys.
func newErrorWithKeys(t *testing.T, c *connect.Connector, keys connecthttp.KeyFunc, opts ...connecthttp.Option) (msg string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("New panicked: %v", r)
		}
	}()
	h, err := connecthttp.New(c, keys, opts...)
	if err != nil {
		if h != nil {
			t.Errorf("New returned a handler with error %v", err)
		}
		return err.Error()
	}
	if h == nil {
		t.Errorf("New returned neither a handler nor an error")
	}
	return ""
}

func TestWithRedirectsRefuses(t *testing.T) {
	f := newFixture(t)
	// The open-redirect bypasses of docs/security.md, C3, and more.
	for _, bad := range []string{
		"", "//evil.com", "/\\evil.com", "/%09/evil.com", "%2F%2Fevil.com", "https://app.example.com@evil.com",
		"https:evil.com", "javascript:alert(1)", "\t//evil.com", "https://app.example.com#@evil.com",
		"https://APP.example.com/ok", "/%2F/evil.com", "/%5Cevil.com", "/ok%0d%0aSet-Cookie:x", "/ok\r\nX: 1",
		"http://app.example.com/ok", "http://localhost/ok", "ftp://app.example.com/", "data:text/html,x",
		"evil.com", "./ok", "?x=1", "https://", "https:///ok", "https://app.example.com:0/", "https://app.example.com:99999/",
		"https://app.example.com:/ok", "https://аpp.example.com/", "https://app.example.com/\u00e9",
		"https://app.example.com/ok?connectionId=1", "/ok?error=x", "/ok#", " /ok", "https://user:pw@app.example.com/",
		"https://[::2]/ok", "https://app..example.com/", "https://-app.example.com/",
	} {
		t.Run(bad, func(t *testing.T) {
			for _, opt := range []connecthttp.Option{
				connecthttp.WithRedirects(bad, "/failed"), connecthttp.WithRedirects("/ok", bad),
			} {
				msg := newError(t, f, opt)
				if !strings.Contains(msg, "WithRedirects") {
					t.Errorf("New with %q: error %q, want one naming WithRedirects", bad, msg)
				}
			}
		})
	}
	for _, good := range []string{
		"/", "/connected", "/app/done?tab=integrations", "https://app.example.com/ok", "https://app.example.com",
		"https://app.example.com:8443/ok?x=1&y=2", "http://127.0.0.1:8080/done", "http://[::1]:3000/x", "https://[::1]/x",
	} {
		if msg := newError(t, f, connecthttp.WithRedirects(good, good)); msg != "" {
			t.Errorf("New with %q: error %q, want none", good, msg)
		}
	}
}

func TestWithPopupOrigin(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{
		"", "*", "null", "https://app.example.com/", "https://app.example.com/x", "https://app.example.com?x",
		"https://app.example.com#x", "http://app.example.com", "https://APP.example.com", "https://u@app.example.com",
		"app.example.com", "javascript:alert(1)", "https://app.example.com\"", "https://app.example.com:",
		"https://app.example.com:0", `https://a.com");alert(1);//`,
	} {
		if msg := newError(t, f, connecthttp.WithPopup(bad)); !strings.Contains(msg, "WithPopup") {
			t.Errorf("WithPopup(%q): error %q, want one naming WithPopup", bad, msg)
		}
	}
	for _, good := range []string{"https://app.example.com", "https://app.example.com:8443", "http://127.0.0.1:5173", "http://[::1]:8080"} {
		if msg := newError(t, f, connecthttp.WithPopup(good)); msg != "" {
			t.Errorf("WithPopup(%q): error %q, want none", good, msg)
		}
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	f := newFixture(t)
	c, keys := f.c, f.keys
	tests := []struct {
		name string
		c    *connect.Connector
		keys connecthttp.KeyFunc
		opts []connecthttp.Option
		want []string
	}{
		{"nil connector", nil, keys, nil, []string{"Connector c is nil"}},
		{"nil keys", c, nil, nil, []string{"keys is nil"}},
		{"nil option", c, keys, []connecthttp.Option{connecthttp.WithMaxBodyBytes(1), nil}, []string{"option 1 is nil"}},
		{"bad success URL", c, keys, []connecthttp.Option{connecthttp.WithRedirects("//evil.example", "/b")}, []string{"WithRedirects success URL"}},
		{"bad failure URL", c, keys, []connecthttp.Option{connecthttp.WithRedirects("/a", "javascript:alert(1)")}, []string{"WithRedirects failure URL"}},
		{"bad popup origin", c, keys, []connecthttp.Option{connecthttp.WithPopup("https://a.example/path")}, []string{"WithPopup origin"}},
		{"redirects and popup", c, keys, []connecthttp.Option{connecthttp.WithRedirects("/a", "/b"), connecthttp.WithPopup("https://a.example")},
			[]string{"WithRedirects and WithPopup: give one"}},
		{"redirects twice", c, keys, []connecthttp.Option{connecthttp.WithRedirects("/a", "/b"), connecthttp.WithRedirects("/c", "/d")},
			[]string{"WithRedirects and WithRedirects: give one"}},
		{"popup twice", c, keys, []connecthttp.Option{connecthttp.WithPopup("https://a.example"), connecthttp.WithPopup("https://b.example")},
			[]string{"WithPopup and WithPopup: give one"}},
		{"zero body cap", c, keys, []connecthttp.Option{connecthttp.WithMaxBodyBytes(0)}, []string{"WithMaxBodyBytes"}},
		{"negative body cap", c, keys, []connecthttp.Option{connecthttp.WithMaxBodyBytes(-1)}, []string{"WithMaxBodyBytes"}},
		{"every problem", nil, nil, []connecthttp.Option{connecthttp.WithMaxBodyBytes(-1), connecthttp.WithRedirects("//x", "/b")},
			[]string{"Connector c is nil", "keys is nil", "WithMaxBodyBytes", "WithRedirects success URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := newErrorWithKeys(t, tt.c, tt.keys, tt.opts...)
			if !strings.HasPrefix(msg, "connecthttp: New: ") {
				t.Fatalf("error = %q, want connecthttp: New: ...", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
	for _, opts := range [][]connecthttp.Option{
		nil,
		{connecthttp.WithRedirects("/a", "/b"), connecthttp.WithMaxBodyBytes(1), connecthttp.WithLogger(nil), connecthttp.WithClock(nil), connecthttp.WithHubOwner(nil)},
		{connecthttp.WithPopup("https://a.example")},
	} {
		if msg := newErrorWithKeys(t, c, keys, opts...); msg != "" {
			t.Errorf("New with %d good options: error %q, want none", len(opts), msg)
		}
	}
}

func TestStaticKeys(t *testing.T) {
	m := map[string]string{"key-a": "proj-a", "key-b": "proj-b"}
	f, err := connecthttp.StaticKeys(m)
	if err != nil {
		t.Fatalf("StaticKeys: %v", err)
	}
	m["key-c"] = "proj-c" // the map is copied
	delete(m, "key-a")
	ctx := context.Background()
	for _, tt := range []struct {
		key, project string
		ok           bool
	}{
		{"key-a", "proj-a", true}, {"key-b", "proj-b", true}, {"key-c", "", false},
		{"", "", false}, {"key-", "", false}, {"key-aa", "", false}, {"KEY-A", "", false},
	} {
		if p, ok := f(ctx, tt.key); p != tt.project || ok != tt.ok {
			t.Errorf("StaticKeys(%q) = %q, %v; want %q, %v", tt.key, p, ok, tt.project, tt.ok)
		}
	}
	for _, tt := range []struct {
		name string
		keys map[string]string
	}{
		{"empty key", map[string]string{"": "p", "sentinel-key": "q"}},
		{"empty project", map[string]string{"sentinel-key": ""}},
	} {
		f, err := connecthttp.StaticKeys(tt.keys)
		if err == nil || f != nil {
			t.Errorf("%s: StaticKeys = %v, %v; want nil and an error", tt.name, f != nil, err)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "connecthttp: StaticKeys: ") || strings.Contains(msg, "sentinel-key") {
			t.Errorf("%s: error %q, want one naming StaticKeys and no key", tt.name, msg)
		}
	}
}
