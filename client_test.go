package connect_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// apiFixture is a fixture whose providers have an API on an httptest server.
func apiFixture(t *testing.T, edit ...func(*connect.Config)) (*fixture, *apiServer) {
	t.Helper()
	api := newAPIServer(t)
	srv := newTokenServer(t)
	f := newFixture(t, append([]func(*connect.Config){func(c *connect.Config) {
		c.Providers = testRegistry(t, srv.URL)
		withAPI(t, api.URL, srv.URL)(c)
	}}, edit...)...)
	f.srv = srv
	return f, api
}

// get sends a GET for the path under the API through the connection's client.
func get(t *testing.T, f *fixture, api *apiServer, id, path string) (*http.Response, error) {
	t.Helper()
	hc, err := f.c.Client(context.Background(), "proj", id)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	resp, err := hc.Get(api.URL + path)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestClientSendsTheCredentialTheProvidersWay(t *testing.T) {
	custom := connectionRequest("custom")
	custom.CustomAuth = map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme", "region": "eu"}
	keyonly := connectionRequest("keyonly")
	keyonly.APIKey = sentinelAPIKey
	keyed := connectionRequest("keyed")
	keyed.APIKey = sentinelAPIKey
	basic := connectionRequest("basic")
	basic.BasicAuth = &connect.BasicAuth{Username: "ada", Password: sentinelBasicPassword}
	for _, tc := range []struct {
		name       string
		req        connect.ConnectionRequest
		header     map[string]string
		query      string
		basic      [2]string
		wantAnswer int
	}{
		{name: "oauth bearer", req: importRequest(sentinelAccessToken, "", time.Time{}),
			header: map[string]string{"Authorization": "Bearer " + sentinelAccessToken}},
		{name: "client credentials bearer", req: machineRequest(),
			header: map[string]string{"Authorization": "Bearer machine-token"}},
		{name: "api key header", req: keyonly, header: map[string]string{"X-Api-Key": sentinelAPIKey}},
		{name: "api key query", req: keyed, query: "api_key=" + sentinelAPIKey + "&page=2"},
		{name: "basic", req: basic, basic: [2]string{"ada", sentinelBasicPassword}},
		{name: "custom headers", req: custom, header: map[string]string{"X-Token": sentinelCustomToken, "X-Where": "acme/eu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, api := apiFixture(t)
			f.srv.setRespond(answerToken("machine-token", "", 3600))
			conn := f.connect(t, tc.req)
			resp, err := get(t, f, api, conn.ID, "/items?page=2")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET = %v, %v; want 200", resp, err)
			}
			got := api.requests()[0]
			if got.Path != "/api/items" || got.Header.Get("Api-Version") != "2024-01" {
				t.Errorf("request %s with Api-Version %q, want /api/items with 2024-01", got.Path, got.Header.Get("Api-Version"))
			}
			for k, v := range tc.header {
				if got.Header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), v)
				}
			}
			if tc.query != "" && got.Query != tc.query {
				t.Errorf("query = %q, want %q", got.Query, tc.query)
			}
			if tc.basic[0] != "" {
				r := &http.Request{Header: got.Header}
				u, p, ok := r.BasicAuth()
				if !ok || u != tc.basic[0] || p != tc.basic[1] {
					t.Errorf("basic auth = %q, %q, %v; want %q and the password", u, p, ok, tc.basic[0])
				}
			}
			if tc.query == "" && strings.Contains(got.Query, "SENTINEL") {
				t.Errorf("query %q carries a credential", got.Query)
			}
		})
	}
}

func TestClientKeepsTheCallersRequest(t *testing.T) {
	f, api := apiFixture(t)
	conn := f.connect(t, importRequest(sentinelAccessToken, "", time.Time{}))
	hc, err := f.c.Client(context.Background(), "proj", conn.ID)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/items", nil)
	req.Header.Set("Api-Version", "2025-06")       // a fixed header the caller may change
	req.Header.Set("Authorization", "Bearer mine") // a credential header the caller may not
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	got := api.requests()[0]
	if got.Header.Get("Api-Version") != "2025-06" || got.Header.Get("Authorization") != "Bearer "+sentinelAccessToken {
		t.Errorf("sent Api-Version %q, Authorization %q; want the caller's version and the connection's token",
			got.Header.Get("Api-Version"), got.Header.Get("Authorization"))
	}
	if req.Header.Get("Authorization") != "Bearer mine" {
		t.Errorf("the caller's request was changed: Authorization %q", req.Header.Get("Authorization"))
	}
	if got := resp.Request.Header.Get("Authorization"); got != "Bearer mine" {
		t.Errorf("the response's request shows Authorization %q, want the caller's own", got)
	}
}

func TestClientSendsNothingToAnotherHost(t *testing.T) {
	f, api := apiFixture(t)
	key := connectionRequest("keyed")
	key.APIKey = sentinelAPIKey
	conn := f.connect(t, key)
	foreign := newAPIServer(t)
	apiHost := strings.TrimPrefix(strings.TrimSuffix(api.URL, "/api"), "http://")
	for _, target := range []string{
		foreign.URL + "/items",
		"https://" + apiHost + "/api/items", // another scheme
		"http://localhost" + apiHost[strings.LastIndex(apiHost, ":"):] + "/api", // another name for the host
		"http://" + apiHost + "@" + strings.TrimPrefix(foreign.URL, "http://"),  // user info is not the host
	} {
		t.Run(target, func(t *testing.T) {
			hc, err := f.c.Client(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			resp, err := hc.Get(target)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, connect.ErrForeignHost) {
				t.Errorf("GET %s = %v, want ErrForeignHost", target, err)
			}
			assertNoSecrets(t, "error", fmt.Sprint(err))
			if n := len(foreign.requests()) + len(api.requests()); n != 0 {
				t.Errorf("%d requests were sent, want none", n)
			}
		})
	}
}

func TestClientFollowsRedirectOffHostWithoutCredential(t *testing.T) {
	foreign := newAPIServer(t)
	for _, kind := range []string{"keyed", "keyonly", "custom", "oauth", "basic"} {
		t.Run(kind, func(t *testing.T) {
			f, api := apiFixture(t)
			api.setRespond(func(r apiRequest) (int, http.Header) {
				return http.StatusFound, http.Header{"Location": {foreign.URL + "/landing"}}
			})
			req := connectionRequest(kind)
			switch kind {
			case "keyed", "keyonly":
				req.APIKey = sentinelAPIKey
			case "custom":
				req.CustomAuth = map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme"}
			case "oauth":
				req = importRequest(sentinelAccessToken, "", time.Time{})
			case "basic":
				req.BasicAuth = &connect.BasicAuth{Username: "ada", Password: sentinelBasicPassword}
			}
			conn := f.connect(t, req)
			resp, err := get(t, f, api, conn.ID, "/items")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET = %v, %v; want the redirect followed to 200", resp, err)
			}
			landed := foreign.requests()
			if len(landed) == 0 {
				t.Fatal("the redirect was not followed")
			}
			last := landed[len(landed)-1]
			assertNoSecrets(t, "redirected request", fmt.Sprint(last.Header, last.Query))
			if last.Header.Get("Api-Version") != "" || last.Header.Get("Authorization") != "" {
				t.Errorf("the foreign host got the API's headers: %v", last.Header)
			}
		})
	}
}

func TestClientRefreshesAnExpiredTokenOnceForConcurrentRequests(t *testing.T) {
	f, api := apiFixture(t)
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2))
	f.srv.setDelay(50 * time.Millisecond)
	conn := f.connectExpired(t)
	hc, err := f.c.Client(context.Background(), "proj", conn.ID)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			resp, err := hc.Get(api.URL + "/items")
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("GET = %v", err)
		}
	}
	if n := f.srv.count(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	for _, r := range api.requests() {
		if r.Header.Get("Authorization") != "Bearer "+sentinelAccessToken2 {
			t.Errorf("a request carried %q, want the refreshed token", r.Header.Get("Authorization"))
		}
	}
}

func TestClientRefreshesOnceOn401(t *testing.T) {
	for _, tc := range []struct {
		name        string
		refuseNew   bool // the API refuses the refreshed token too
		refresh     func(tokenRequest) (int, string)
		wantStatus  int
		wantAPI     int
		wantRefresh int
		wantState   connect.Status
	}{
		{name: "retried with the new token", refresh: answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2),
			wantStatus: 200, wantAPI: 2, wantRefresh: 1, wantState: connect.StatusWorking},
		{name: "never more than once", refuseNew: true, refresh: answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2),
			wantStatus: 401, wantAPI: 2, wantRefresh: 1, wantState: connect.StatusWorking},
		{name: "invalid_grant", refresh: func(tokenRequest) (int, string) { return 400, `{"error":"invalid_grant"}` },
			wantStatus: 401, wantAPI: 1, wantRefresh: 1, wantState: connect.StatusBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, api := apiFixture(t)
			f.srv.setRespond(tc.refresh)
			api.setRespond(func(r apiRequest) (int, http.Header) {
				if r.Header.Get("Authorization") == "Bearer "+sentinelAccessToken || tc.refuseNew {
					return http.StatusUnauthorized, nil
				}
				return http.StatusOK, nil
			})
			conn := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(time.Hour)))
			resp, err := get(t, f, api, conn.ID, "/items")
			if err != nil || resp.StatusCode != tc.wantStatus {
				t.Fatalf("GET = %v, %v; want %d", resp, err, tc.wantStatus)
			}
			if n := len(api.requests()); n != tc.wantAPI {
				t.Errorf("%d API requests, want %d", n, tc.wantAPI)
			}
			if n := f.srv.count(); n != tc.wantRefresh {
				t.Errorf("%d refreshes, want %d", n, tc.wantRefresh)
			}
			got, err := f.c.Connection(context.Background(), "proj", conn.ID)
			if err != nil || got.Status != tc.wantState {
				t.Errorf("status = %v (%v), want %s", got.Status, err, tc.wantState)
			}
		})
	}
}

func TestClientWaitsOutRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		method     string
		body       func() io.Reader // nil: no body
		status     int
		retryAfter string
		maxWait    time.Duration
		timeout    time.Duration
		wantCalls  int
	}{
		{name: "429 GET", method: "GET", status: 429, retryAfter: "0", wantCalls: 2},
		{name: "429 POST with GetBody", method: "POST", body: func() io.Reader { return strings.NewReader(`{"a":1}`) },
			status: 429, retryAfter: "1", wantCalls: 2},
		{name: "429 POST without GetBody", method: "POST", body: func() io.Reader { return io.MultiReader(strings.NewReader("x")) },
			status: 429, retryAfter: "0", wantCalls: 1},
		{name: "503 GET", method: "GET", status: 503, retryAfter: "0", wantCalls: 2},
		{name: "503 POST is not idempotent", method: "POST", body: func() io.Reader { return strings.NewReader("x") },
			status: 503, retryAfter: "0", wantCalls: 1},
		{name: "500 is not retried", method: "GET", status: 500, retryAfter: "0", wantCalls: 1},
		{name: "no Retry-After", method: "GET", status: 429, wantCalls: 1},
		{name: "beyond the cap", method: "GET", status: 429, retryAfter: "31", wantCalls: 1},
		{name: "beyond a smaller cap", method: "GET", status: 429, retryAfter: "2", maxWait: time.Second, wantCalls: 1},
		{name: "never waits", method: "GET", status: 429, retryAfter: "0", maxWait: -1, wantCalls: 1},
		{name: "past the context", method: "GET", status: 429, retryAfter: "5", timeout: 2 * time.Second, wantCalls: 1},
		{name: "HTTP-date", method: "GET", status: 429, retryAfter: "date", wantCalls: 2},
		{name: "not a delay", method: "GET", status: 429, retryAfter: "soon", wantCalls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, api := apiFixture(t, func(c *connect.Config) { c.MaxRetryWait = tc.maxWait })
			retryAfter := tc.retryAfter
			if retryAfter == "date" {
				retryAfter = f.clock.Now().UTC().Format(http.TimeFormat) // now: no wait
			}
			api.setRespond(func(r apiRequest) (int, http.Header) {
				if len(api.requests()) == 1 {
					h := http.Header{}
					if retryAfter != "" {
						h.Set("Retry-After", retryAfter)
					}
					return tc.status, h
				}
				return http.StatusOK, nil
			})
			key := connectionRequest("keyonly")
			key.APIKey = sentinelAPIKey
			conn := f.connect(t, key)
			hc, err := f.c.Client(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			var body io.Reader
			if tc.body != nil {
				body = tc.body()
			}
			req, _ := http.NewRequestWithContext(ctx, tc.method, api.URL+"/items", body)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			reqs := api.requests()
			if len(reqs) != tc.wantCalls {
				t.Fatalf("%d requests, want %d", len(reqs), tc.wantCalls)
			}
			if tc.wantCalls == 2 && reqs[1].Body != reqs[0].Body {
				t.Errorf("the retry sent body %q, want %q", reqs[1].Body, reqs[0].Body)
			}
			wantStatus := tc.status
			if tc.wantCalls == 2 {
				wantStatus = http.StatusOK
			}
			if resp.StatusCode != wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, wantStatus)
			}
		})
	}
}

func TestClientStopsAfterDeletion(t *testing.T) {
	key := connectionRequest("keyonly")
	key.APIKey = sentinelAPIKey
	for name, req := range map[string]connect.ConnectionRequest{
		"api key": key,
		"oauth":   importRequest(sentinelAccessToken, "", time.Time{}),
	} {
		t.Run(name, func(t *testing.T) {
			f, api := apiFixture(t)
			conn := f.connect(t, req)
			hc, err := f.c.Client(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			if resp, err := hc.Get(api.URL + "/items"); err != nil {
				t.Fatalf("GET before deletion: %v", err)
			} else {
				resp.Body.Close()
			}
			if err := f.c.DeleteConnection(context.Background(), "proj", conn.ID); err != nil {
				t.Fatalf("DeleteConnection: %v", err)
			}
			resp, err := hc.Get(api.URL + "/items")
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, connect.ErrConnectionNotFound) || len(api.requests()) != 1 {
				t.Errorf("GET after deletion = %v with %d requests sent in all, want ErrConnectionNotFound and only the first", err, len(api.requests()))
			}
		})
	}
}

func TestClientErrorsKeepNoSecrets(t *testing.T) {
	// The API closes every connection at once: the error comes from the transport, about a
	// request whose URL carries the key.
	closer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	t.Cleanup(closer.Close)
	f := newFixture(t, withAPI(t, closer.URL+"/api", "http://127.0.0.1:1/token"))
	key := connectionRequest("keyed")
	key.APIKey = sentinelAPIKey
	conn := f.connect(t, key)
	hc, err := f.c.Client(context.Background(), "proj", conn.ID)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	resp, err := hc.Get(closer.URL + "/api/items")
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET succeeded against a server that closes every connection")
	}
	assertNoSecrets(t, "error", err.Error())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoSecrets(t, "client "+verb, fmt.Sprintf(verb, hc))
	}
	assertNoSecrets(t, "logs", f.logs.String())
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		want   error
	}{
		{name: "accepted", status: 200},
		{name: "unauthorized", status: 401, want: connect.ErrBadCredentials},
		{name: "forbidden", status: 403, want: connect.ErrBadCredentials},
		// RFC 6750 §3.1: the token was taken, only its scope falls short of the request.
		{name: "forbidden for its scope", status: 403, header: http.Header{
			"Www-Authenticate": {`Bearer realm="api", error="insufficient_scope", scope="users:read"`}}},
		{name: "forbidden as an invalid token", status: 403, header: http.Header{
			"Www-Authenticate": {`Bearer error="invalid_token"`}}, want: connect.ErrBadCredentials},
		{name: "unauthorized, whatever the scope", status: 401, header: http.Header{
			"Www-Authenticate": {`Bearer error="insufficient_scope"`}}, want: connect.ErrBadCredentials},
		{name: "insufficient_scope quoted inside another challenge", status: 403, header: http.Header{
			"Www-Authenticate": {`Basic realm="Bearer error=\"insufficient_scope\""`}}, want: connect.ErrBadCredentials},
		{name: "insufficient_scope of another scheme", status: 403, header: http.Header{
			"Www-Authenticate": {`Newauth realm="apps", error="insufficient_scope"`}}, want: connect.ErrBadCredentials},
		{name: "not found", status: 404, want: connect.ErrVerifyFailed},
		{name: "server error", status: 500, want: connect.ErrVerifyFailed},
		{name: "redirect", status: 302, header: http.Header{"Location": {"https://evil.example/"}}, want: connect.ErrVerifyFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, api := apiFixture(t)
			key := connectionRequest("keyonly")
			key.APIKey = sentinelAPIKey
			conn := f.connect(t, key)
			api.setRespond(func(apiRequest) (int, http.Header) { return tc.status, tc.header })
			err := f.c.Verify(context.Background(), "proj", conn.ID)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			assertNoSecrets(t, "error", fmt.Sprint(err))
			reqs := api.requests()
			if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/api/me" || reqs[0].Header.Get("X-Api-Key") != sentinelAPIKey {
				t.Errorf("verification requests %+v, want one GET /api/me with the key", reqs)
			}
		})
	}
}

func TestVerifyReadsTheOKField(t *testing.T) {
	for _, tc := range []struct {
		body string
		want error
	}{
		{`{"ok":true,"user":"U1"}`, nil},
		{`{"ok":false,"error":"invalid_auth"}`, connect.ErrBadCredentials},
		{`{"ok":"true"}`, connect.ErrBadCredentials},
		{`{"user":"U1"}`, connect.ErrBadCredentials},
		{`not json`, connect.ErrBadCredentials},
	} {
		t.Run(tc.body, func(t *testing.T) {
			f, api := apiFixture(t, editProvider(t, "keyonly", func(p *providers.Provider) {
				api := *p.API
				api.Verify = &providers.Verify{Method: http.MethodPost, Path: "/auth.test", OK: "ok"}
				p.API = &api
			}))
			api.setBody(tc.body)
			key := connectionRequest("keyonly")
			key.APIKey = sentinelAPIKey
			conn := f.connect(t, key)
			if err := f.c.Verify(context.Background(), "proj", conn.ID); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConnectVerifies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ask      bool // the request asks
		config   bool // the Config asks
		status   int
		want     error
		wantAPI  int
		wantConn int
	}{
		{name: "request asks, accepted", ask: true, status: 200, wantAPI: 1, wantConn: 1},
		{name: "request asks, refused", ask: true, status: 401, want: connect.ErrBadCredentials, wantAPI: 1},
		{name: "config asks, refused", config: true, status: 403, want: connect.ErrBadCredentials, wantAPI: 1},
		{name: "config asks, server error", config: true, status: 500, want: connect.ErrVerifyFailed, wantAPI: 1},
		{name: "nobody asks", status: 401, wantConn: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, api := apiFixture(t, func(c *connect.Config) { c.VerifyOnConnect = tc.config })
			api.setRespond(func(apiRequest) (int, http.Header) { return tc.status, nil })
			req := connectionRequest("keyonly")
			req.APIKey, req.Verify = sentinelAPIKey, tc.ask
			_, err := f.c.Connect(context.Background(), req)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Connect = %v, want %v", err, tc.want)
			}
			assertNoSecrets(t, "error", fmt.Sprint(err))
			if n := len(api.requests()); n != tc.wantAPI {
				t.Errorf("%d verification requests, want %d", n, tc.wantAPI)
			}
			if n := f.count(t, "proj"); n != tc.wantConn {
				t.Errorf("%d connections stored, want %d", n, tc.wantConn)
			}
		})
	}
}

func TestConnectVerifyNeedsAVerificationRequest(t *testing.T) {
	f := newFixture(t)
	req := connectionRequest("keyonly")
	req.APIKey, req.Verify = sentinelAPIKey, true
	_, err := f.c.Connect(context.Background(), req)
	assertField(t, err, "verify")
	if !errors.Is(err, connect.ErrNoAPI) || f.count(t, "proj") != 0 {
		t.Errorf("Connect = %v with %d stored, want ErrNoAPI and nothing stored", err, f.count(t, "proj"))
	}
}

func TestRefreshForcesOneRotationSafeRefresh(t *testing.T) {
	f, _ := apiFixture(t)
	// A rotating token endpoint that refuses a spent refresh token, as providers that
	// detect reuse do: every Refresh must send the newest one.
	var mu sync.Mutex
	current, n := sentinelRefreshToken, 0
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if r.Form.Get("refresh_token") != current {
			return 400, `{"error":"invalid_grant"}`
		}
		n++
		current = fmt.Sprintf("rotated-%d", n)
		return 200, tokenJSON(fmt.Sprintf("access-%d", n), current, 3600)
	})
	conn := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(time.Hour)))
	var wg sync.WaitGroup
	toks := make(chan string, 6)
	for range 6 {
		wg.Go(func() {
			tok, err := f.c.Refresh(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Errorf("Refresh: %v", err)
				return
			}
			toks <- tok.AccessToken
		})
	}
	wg.Wait()
	close(toks)
	for tok := range toks {
		if tok == sentinelAccessToken {
			t.Errorf("Refresh returned the token it was to replace")
		}
	}
	got, err := f.c.Connection(context.Background(), "proj", conn.ID)
	if err != nil || got.Status != connect.StatusWorking {
		t.Errorf("status = %v (%v), want working: no refresh spent a spent token", got.Status, err)
	}
}

func TestRefreshRefusesOtherConnections(t *testing.T) {
	f, _ := apiFixture(t)
	key := connectionRequest("keyonly")
	key.APIKey = sentinelAPIKey
	conn := f.connect(t, key)
	for _, tc := range []struct {
		name, project, id string
		want              error
	}{
		{"not OAuth", "proj", conn.ID, connect.ErrNotOAuth},
		{"another project", "other", conn.ID, connect.ErrConnectionNotFound},
		{"bad id", "proj", "../x", connect.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.c.Refresh(context.Background(), tc.project, tc.id); !errors.Is(err, tc.want) {
				t.Errorf("Refresh = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDeleteConnectionRevokes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		req       func(f *fixture) connect.ConnectionRequest
		status    int
		want      connect.Revocation
		wantToken string
		wantHint  string
		wantBasic bool
	}{
		{name: "refresh token", req: func(f *fixture) connect.ConnectionRequest {
			return importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(time.Hour))
		}, status: 200, want: connect.RevocationSucceeded, wantToken: sentinelRefreshToken, wantHint: "refresh_token", wantBasic: true},
		{name: "access token only", req: func(*fixture) connect.ConnectionRequest {
			return importRequest(sentinelAccessToken, "", time.Time{})
		}, status: 200, want: connect.RevocationSucceeded, wantToken: sentinelAccessToken, wantHint: "access_token", wantBasic: true},
		{name: "client credentials", req: func(*fixture) connect.ConnectionRequest { return machineRequest() },
			status: 200, want: connect.RevocationSucceeded, wantToken: "machine-token", wantHint: "access_token", wantBasic: true},
		{name: "refused", req: func(f *fixture) connect.ConnectionRequest {
			return importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(time.Hour))
		}, status: 503, want: connect.RevocationFailed, wantToken: sentinelRefreshToken, wantHint: "refresh_token", wantBasic: true},
		{name: "api key", req: func(*fixture) connect.ConnectionRequest {
			r := connectionRequest("keyonly")
			r.APIKey = sentinelAPIKey
			return r
		}, want: connect.RevocationNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := apiFixture(t)
			f.srv.setRespond(func(r tokenRequest) (int, string) {
				if r.Path == "/revoke" {
					return tc.status, ""
				}
				return 200, tokenJSON("machine-token", "", 3600)
			})
			conn := f.connect(t, tc.req(f))
			if err := f.c.DeleteConnection(context.Background(), "proj", conn.ID); err != nil {
				t.Fatalf("DeleteConnection = %v, want nil even when revocation fails", err)
			}
			if _, err := f.c.Connection(context.Background(), "proj", conn.ID); !errors.Is(err, connect.ErrConnectionNotFound) {
				t.Errorf("the connection is still there: %v", err)
			}
			deleted := f.events.ofType(connect.EventConnectionDeleted)
			if len(deleted) != 1 || deleted[0].Revocation != tc.want {
				t.Fatalf("deletion events %+v, want one with revocation %s", deleted, tc.want)
			}
			if (tc.want == connect.RevocationFailed) != errors.Is(deleted[0].Err, connect.ErrRevocationFailed) {
				t.Errorf("event error %v, want ErrRevocationFailed only when revocation failed", deleted[0].Err)
			}
			assertNoSecrets(t, "event", fmt.Sprint(deleted[0].Err))
			var revokes []tokenRequest
			for _, r := range f.srv.requests() {
				if r.Path == "/revoke" {
					revokes = append(revokes, r)
				}
			}
			if tc.want == connect.RevocationNone {
				if len(revokes) != 0 {
					t.Errorf("%d revocation requests, want none", len(revokes))
				}
				return
			}
			if len(revokes) != 1 {
				t.Fatalf("%d revocation requests, want 1", len(revokes))
			}
			r := revokes[0]
			if r.Form.Get("token") != tc.wantToken || r.Form.Get("token_type_hint") != tc.wantHint || r.Basic != tc.wantBasic {
				t.Errorf("revoked %q (hint %q, basic %v), want %q (%q, %v)", r.Form.Get("token"), r.Form.Get("token_type_hint"), r.Basic,
					tc.wantToken, tc.wantHint, tc.wantBasic)
			}
		})
	}
}

func TestClientNeedsAnAPI(t *testing.T) {
	f := newFixture(t)
	key := connectionRequest("keyonly")
	key.APIKey = sentinelAPIKey
	conn := f.connect(t, key)
	if _, err := f.c.Client(context.Background(), "proj", conn.ID); !errors.Is(err, connect.ErrNoAPI) {
		t.Errorf("Client = %v, want ErrNoAPI", err)
	}
	if err := f.c.Verify(context.Background(), "proj", conn.ID); !errors.Is(err, connect.ErrNoAPI) {
		t.Errorf("Verify = %v, want ErrNoAPI", err)
	}
}

func TestCallbackInputsReachTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        error
		wantPath    string
	}{
		{name: "given", query: "&realmId=4620816365", wantPath: "/api/company/4620816365/companyinfo/4620816365"},
		{name: "absent", query: "", want: connect.ErrNoAPI},
		{name: "not its rule", query: "&realmId=46%2F..%2Fx", want: connect.ErrMalformedCallback},
		{name: "twice", query: "&realmId=1&realmId=2", want: connect.ErrMalformedCallback},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, api := apiFixture(t)
			c := f.again(t, editProvider(t, "acme", func(p *providers.Provider) {
				p.Inputs = []metadata.Input{{Name: "realmId", Pattern: "[0-9]{1,20}", Optional: true}}
				p.CallbackInputs = []string{"realmId"}
				p.API = &providers.API{
					BaseURL: api.URL + "/company/{{realmId}}",
					Verify:  &providers.Verify{Method: http.MethodGet, Path: "/companyinfo/{{realmId}}"},
				}
			}))
			a, err := c.AuthorizeURL(context.Background(), oauthRequest("acme"))
			if err != nil {
				t.Fatalf("AuthorizeURL: %v", err)
			}
			conn, err := c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+a.State+tc.query))
			if err == nil {
				err = c.Verify(context.Background(), "proj", conn.ID)
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Callback and Verify = %v, want %v", err, tc.want)
			}
			if tc.wantPath != "" {
				if got := conn.ProviderMetadata["realmId"]; got.Source != "callback" {
					t.Errorf("realmId metadata = %+v, want from the callback", got)
				}
				if reqs := api.requests(); len(reqs) != 1 || reqs[0].Path != tc.wantPath {
					t.Errorf("verification requests %+v, want one for %s", reqs, tc.wantPath)
				}
			}
		})
	}
}
