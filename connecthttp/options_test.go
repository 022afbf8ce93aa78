package connecthttp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
)

// newPanic returns the panic of connecthttp.New, or "".
func newPanic(t *testing.T, c *connect.Connector, opts ...connecthttp.Option) (msg string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	connecthttp.New(c, opts...)
	return ""
}

func testConnector(t *testing.T) *connect.Connector {
	t.Helper()
	c, err := connect.New(connect.Config{RedirectURL: testRedirect})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var keys = connecthttp.WithKeys(connecthttp.StaticKeys(map[string]string{"k": "p"}))

func TestWithRedirectsRefuses(t *testing.T) {
	c := testConnector(t)
	// SECURITY.md item 14's hostile values, and more.
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
				msg := newPanic(t, c, keys, opt)
				if !strings.Contains(msg, "WithRedirects") {
					t.Errorf("New with %q: panic %q, want one naming WithRedirects", bad, msg)
				}
			}
		})
	}
	for _, good := range []string{
		"/", "/connected", "/app/done?tab=integrations", "https://app.example.com/ok", "https://app.example.com",
		"https://app.example.com:8443/ok?x=1&y=2", "http://127.0.0.1:8080/done", "http://[::1]:3000/x", "https://[::1]/x",
	} {
		if msg := newPanic(t, c, keys, connecthttp.WithRedirects(good, good)); msg != "" {
			t.Errorf("New with %q: panic %q, want none", good, msg)
		}
	}
}

func TestWithPopupOrigin(t *testing.T) {
	c := testConnector(t)
	for _, bad := range []string{
		"", "*", "null", "https://app.example.com/", "https://app.example.com/x", "https://app.example.com?x",
		"https://app.example.com#x", "http://app.example.com", "https://APP.example.com", "https://u@app.example.com",
		"app.example.com", "javascript:alert(1)", "https://app.example.com\"", "https://app.example.com:",
		"https://app.example.com:0", `https://a.com");alert(1);//`,
	} {
		if msg := newPanic(t, c, keys, connecthttp.WithPopup(bad)); !strings.Contains(msg, "WithPopup") {
			t.Errorf("WithPopup(%q): panic %q, want one naming WithPopup", bad, msg)
		}
	}
	for _, good := range []string{"https://app.example.com", "https://app.example.com:8443", "http://127.0.0.1:5173", "http://[::1]:8080"} {
		if msg := newPanic(t, c, keys, connecthttp.WithPopup(good)); msg != "" {
			t.Errorf("WithPopup(%q): panic %q, want none", good, msg)
		}
	}
}

func TestNewPanics(t *testing.T) {
	c := testConnector(t)
	tests := []struct {
		name string
		c    *connect.Connector
		opts []connecthttp.Option
		want []string
	}{
		{"no keys", c, nil, []string{"WithKeys"}},
		{"nil connector", nil, []connecthttp.Option{keys}, []string{"Connector"}},
		{"two endings", c, []connecthttp.Option{keys, connecthttp.WithRedirects("/a", "/b"), connecthttp.WithPopup("https://a.example")}, []string{"exclusive"}},
		{"body cap", c, []connecthttp.Option{keys, connecthttp.WithMaxBodyBytes(0)}, []string{"WithMaxBodyBytes"}},
		{"every problem", nil, []connecthttp.Option{connecthttp.WithMaxBodyBytes(-1), connecthttp.WithRedirects("//x", "/b")},
			[]string{"Connector", "WithKeys", "WithMaxBodyBytes", "success URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := newPanic(t, tt.c, tt.opts...)
			if !strings.HasPrefix(msg, "connecthttp: New: ") {
				t.Fatalf("panic = %q, want connecthttp: New: ...", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("panic %q does not mention %q", msg, w)
				}
			}
		})
	}
	if msg := newPanic(t, c, keys); msg != "" {
		t.Errorf("New with keys: panic %q", msg)
	}
}

func TestStaticKeys(t *testing.T) {
	m := map[string]string{"key-a": "proj-a", "key-b": "proj-b"}
	f := connecthttp.StaticKeys(m)
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
	for _, bad := range []map[string]string{{"": "p"}, {"k": ""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("StaticKeys(%v) did not panic", bad)
				}
			}()
			connecthttp.StaticKeys(bad)
		}()
	}
}
