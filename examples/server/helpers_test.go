package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// startDemo serves a demo on loopback ports of its own until the test ends.
func startDemo(t *testing.T) *demo {
	t.Helper()
	return startDemoLogged(t, nil)
}

// startDemoLogged is startDemo with a logger.
func startDemoLogged(t *testing.T, log *slog.Logger) *demo {
	t.Helper()
	d, err := newDemo("127.0.0.1:0", "127.0.0.1:0", log)
	if err != nil {
		t.Fatalf("newDemo: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return d
}

// do sends a request with an optional API key and returns the response and its body.
func do(t *testing.T, method, url, apiKey, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if apiKey != "" {
		req.Header.Set("X-Api-Key", apiKey)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// logBuffer is a logger's output, safe to read while servers write to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLogBuffer returns a debug logger writing text records to a logBuffer.
func newLogBuffer() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// connectOAuth runs the OAuth flow over HTTP, as TestFlowWithoutBrowser does with its checks,
// and returns the new connection's id.
func connectOAuth(t *testing.T, d *demo) string {
	t.Helper()
	res, body := do(t, http.MethodPost, d.url+"/v1/oauth-connect", demoAPIKey,
		`{"projectId":"demo","provider":"local","groupRef":"demo-group","consumerRef":"demo-user","enableCSRFProtection":true}`)
	var authorizeURL string
	if err := json.Unmarshal([]byte(body), &authorizeURL); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("oauth-connect: %d %s", res.StatusCode, body)
	}
	var cookie string
	for _, ck := range res.Cookies() {
		cookie = ck.Name + "=" + ck.Value
	}
	loc, err := d.as.Decide(authorizeURL, true, demoUser, demoPassword)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	res, body = do(t, http.MethodGet, loc.String(), "", "", "Cookie", cookie)
	end, err := res.Location()
	if err != nil || end.Path != connectedPath {
		t.Fatalf("callback: %d %s, want a redirect to %s", res.StatusCode, body, connectedPath)
	}
	return end.Query().Get("connectionId")
}

// connectKey connects the API-key provider with key, as the page's form does, and returns
// the response.
func connectKey(t *testing.T, d *demo, key string) (*http.Response, string) {
	t.Helper()
	req, err := json.Marshal(map[string]any{
		"provider": demoKeyProvider, "groupRef": "demo-group", "consumerRef": "demo-user", "apiKey": key, "verify": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return do(t, http.MethodPost, d.url+"/v1/projects/demo/connections", demoAPIKey, string(req))
}
