package connecthttp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
	"github.com/connectkit/connect/state"
)

func TestCallbackSuccessRedirect(t *testing.T) {
	f := newFixture(t, connecthttp.WithRedirects(successURL, failureURL))
	st, _ := f.start(t, false)
	// Redirect targets in the query are ignored: the ending is fixed by configuration.
	hostile := url.Values{}
	for _, k := range []string{"return_to", "redirect_uri", "next", "success_url", "successURL"} {
		hostile.Set(k, "https://evil.example/")
	}
	q := "state=" + st + "&code=" + sentinelCode + "&" + hostile.Encode()
	rec := f.callback(q)
	checkCallbackHeaders(t, rec, q)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303; body %s", rec.Code, rec.Body)
	}
	loc := rec.Header().Get("Location")
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(successURL) + `\?connectionId=([0-9a-f-]{36})&provider=testprov$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("Location = %q, want %s?connectionId=<id>&provider=testprov", loc, successURL)
	}
	noSentinel(t, "response", dump(rec), st, sentinelCode, sentinelAT, sentinelRT, sentinelSecret, "evil.example")
	if rec.Body.Len() != 0 {
		t.Errorf("body = %q, want none", rec.Body)
	}
	if got := f.tokens.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
	conn := f.do(http.MethodGet, "/v1/projects/my-project/connections/"+m[1], "")
	if conn.Code != http.StatusOK {
		t.Errorf("the connection of the redirect: status %d", conn.Code)
	}
	noSentinel(t, "connection", dump(conn), sentinelAT, sentinelRT, sentinelSecret)
	noSentinel(t, "logs", f.logs.String(), st, sentinelCode, sentinelAT, sentinelRT, sentinelSecret, myKey)
}

// callbackFailure is a callback that fails: query returns its query and cookies, code the
// failure code the app's failure page gets.
type callbackFailure struct {
	name  string
	query func(t *testing.T, f *fixture) (string, []*http.Cookie)
	code  string
	fc    fixtureConfig
}

// callbackFailures are TestCallbackFailures' cases; provider errors carry desc.
func callbackFailures(desc string) []callbackFailure {
	return []callbackFailure{
		{name: "missing state", code: "invalid_state", query: func(*testing.T, *fixture) (string, []*http.Cookie) {
			return "code=" + sentinelCode, nil
		}},
		{name: "malformed state", code: "invalid_state", query: func(*testing.T, *fixture) (string, []*http.Cookie) {
			return "state=SENTINEL_SHORT&code=" + sentinelCode, nil
		}},
		{name: "repeated state", code: "invalid_state", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, false)
			return "state=" + st + "&state=" + sentinelState + "&code=" + sentinelCode, nil
		}},
		{name: "unknown state", code: "invalid_state", query: func(*testing.T, *fixture) (string, []*http.Cookie) {
			return "state=" + sentinelState + "&code=" + sentinelCode, nil
		}},
		{name: "replay", code: "invalid_state", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, false)
			q := "state=" + st + "&code=" + sentinelCode
			if rec := f.callback(q); !strings.Contains(rec.Header().Get("Location"), "connectionId=") {
				t.Fatalf("first callback: Location %q, want success", rec.Header().Get("Location"))
			}
			return q, nil
		}},
		{name: "access denied", code: "access_denied", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, false)
			return "state=" + st + "&error=access_denied&error_description=" + url.QueryEscape(desc), nil
		}},
		{name: "access denied with bad state", code: "invalid_state", query: func(*testing.T, *fixture) (string, []*http.Cookie) {
			return "state=" + sentinelState + "&error=access_denied&error_description=" + url.QueryEscape(desc), nil
		}},
		{name: "other provider error", code: "exchange_failed", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, false)
			return "state=" + st + "&error=invalid_scope&error_description=" + url.QueryEscape(desc), nil
		}},
		{name: "expired", code: "expired",
			// A store on the real clock keeps the record; connect's clock finds it expired.
			fc: fixtureConfig{states: &failingStates{inner: state.NewMemoryStore()}},
			query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
				st, _ := f.start(t, false)
				f.advance(connect.DefaultStateTTL + time.Second)
				return "state=" + st + "&code=" + sentinelCode, nil
			}},
		{name: "binding cookie missing", code: "invalid_state", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, true)
			return "state=" + st + "&code=" + sentinelCode, nil
		}},
		{name: "binding cookie wrong", code: "invalid_state", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, true)
			other, _ := state.NewToken(nil)
			return "state=" + st + "&code=" + sentinelCode, []*http.Cookie{{Name: connect.BindingCookieName(st), Value: other}}
		}},
		{name: "binding cookie of another flow", code: "invalid_state", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, true)
			_, ck := f.start(t, true)
			return "state=" + st + "&code=" + sentinelCode, []*http.Cookie{ck}
		}},
		{name: "exchange fails", code: "exchange_failed", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			f.setTokenResponse(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"` + sentinelCode + `"}`))
			})
			st, _ := f.start(t, false)
			return "state=" + st + "&code=" + sentinelCode, nil
		}},
		{name: "neither code nor error", code: "invalid_request", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, false)
			return "state=" + st, nil
		}},
		{name: "code and error", code: "invalid_request", query: func(t *testing.T, f *fixture) (string, []*http.Cookie) {
			st, _ := f.start(t, false)
			return "state=" + st + "&code=" + sentinelCode + "&error=access_denied", nil
		}},
		{name: "store unavailable", code: "store_unavailable",
			fc: fixtureConfig{states: &failingStates{take: errors.New("SENTINEL_INTERNAL_down")}},
			query: func(*testing.T, *fixture) (string, []*http.Cookie) {
				return "state=" + sentinelState + "&code=" + sentinelCode, nil
			}},
	}
}

func TestCallbackFailures(t *testing.T) {
	const desc = "SENTINEL_DESC_<script>alert(1)</script>"
	for _, tt := range callbackFailures(desc) {
		t.Run(tt.name, func(t *testing.T) {
			fc := tt.fc
			fc.opts = []connecthttp.Option{connecthttp.WithRedirects(successURL, failureURL)}
			f := newFixtureWith(t, fc)
			q, cookies := tt.query(t, f)
			before := f.tokens.Load()
			rec := f.callback(q, cookies...)
			checkCallbackHeaders(t, rec, q)
			if rec.Code != http.StatusSeeOther {
				t.Errorf("status = %d, want 303", rec.Code)
			}
			if got, want := rec.Header().Get("Location"), failureURL+"&error="+tt.code; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			params, _ := url.ParseQuery(q)
			values := []string{sentinelCode, sentinelState, "SENTINEL_DESC", "SENTINEL_SHORT", "SENTINEL_INTERNAL", "<script>"}
			values = append(values, params["state"]...)
			for _, c := range cookies {
				values = append(values, c.Value)
			}
			noSentinel(t, "response", dump(rec), values...)
			if tt.code != "exchange_failed" && f.tokens.Load() != before {
				t.Errorf("token requests: %d more, want none", f.tokens.Load()-before)
			}
			noSentinel(t, "logs", f.logs.String(), sentinelCode, sentinelSecret, myKey)
		})
	}
}

func TestCallbackBindingCookieAccepted(t *testing.T) {
	f := newFixture(t, connecthttp.WithRedirects(successURL, "/failed"))
	st, ck := f.start(t, true)
	if ck == nil {
		t.Fatal("no binding cookie")
	}
	q := "state=" + st + "&code=" + sentinelCode
	rec := f.callback(q, ck)
	checkCallbackHeaders(t, rec, q)
	if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, successURL+"?connectionId=") {
		t.Errorf("Location = %q, want success", loc)
	}
	noSentinel(t, "response", dump(rec), ck.Value, st, sentinelCode)
}

func TestCallbackRelativeRedirects(t *testing.T) {
	f := newFixture(t, connecthttp.WithRedirects("/app/done?tab=integrations", "/app/failed"))
	st, _ := f.start(t, false)
	rec := f.callback("state=" + st + "&code=x")
	if loc := rec.Header().Get("Location"); !regexp.MustCompile(`^/app/done\?tab=integrations&connectionId=[0-9a-f-]{36}&provider=testprov$`).MatchString(loc) {
		t.Errorf("Location = %q", loc)
	}
	rec = f.callback("state=" + st + "&code=x")
	if got, want := rec.Header().Get("Location"), "/app/failed?error=invalid_state"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

func TestCallbackMethod(t *testing.T) {
	f := newFixture(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodHead} {
		r := httptest.NewRequest(m, "https://api.example.com/callbacks/v1/oauth?state="+sentinelState+"&code=x", nil)
		rec := f.serve(r)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET" {
			t.Errorf("%s: status %d, Allow %q; want 405, GET", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
}

var scriptRE = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
var dataRE = regexp.MustCompile(`(?s)<script type="application/json" id="connect-result">(.*?)</script>`)

func TestCallbackPopup(t *testing.T) {
	f := newFixture(t, connecthttp.WithPopup(openerURL))
	st, _ := f.start(t, false)
	tests := []struct {
		name   string
		query  string
		status int
		ok     bool
		code   string
	}{
		{"success", "state=" + st + "&code=" + sentinelCode, 200, true, ""},
		{"replay", "state=" + st + "&code=" + sentinelCode, 400, false, "invalid_state"},
		{"unknown state", "state=" + sentinelState + "&code=" + sentinelCode, 400, false, "invalid_state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.callback(tt.query)
			checkCallbackHeaders(t, rec, tt.query)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			page := rec.Body.String()
			if !strings.Contains(page, `postMessage(r,"`+openerURL+`")`) {
				t.Errorf("page does not post to %s: %s", openerURL, page)
			}
			if strings.Contains(page, `"*"`) || strings.Contains(page, `'*'`) {
				t.Errorf("page posts to any origin: %s", page)
			}
			scripts := scriptRE.FindAllStringSubmatch(page, -1)
			if len(scripts) != 1 {
				t.Fatalf("page has %d executable scripts, want 1", len(scripts))
			}
			sum := sha256.Sum256([]byte(scripts[0][1]))
			csp := rec.Header().Get("Content-Security-Policy")
			if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, "script-src "+want) {
				t.Errorf("CSP %q does not allow the script by its hash %s", csp, want)
			}
			if !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q, want default-src 'none' and nothing unsafe", csp)
			}
			m := dataRE.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no result element: %s", page)
			}
			var msg struct {
				Type         string `json:"type"`
				OK           bool   `json:"ok"`
				ConnectionID string `json:"connectionId"`
				Provider     string `json:"provider"`
				Error        string `json:"error"`
			}
			if err := json.Unmarshal([]byte(m[1]), &msg); err != nil {
				t.Fatalf("result %q: %v", m[1], err)
			}
			if msg.Type != "connect:result" || msg.OK != tt.ok || msg.Error != tt.code ||
				(tt.ok && (msg.ConnectionID == "" || msg.Provider != "testprov")) {
				t.Errorf("result = %+v, want ok %v, error %q", msg, tt.ok, tt.code)
			}
			noSentinel(t, "response", dump(rec), st, sentinelState, sentinelCode)
		})
	}
}

func TestCallbackPlainPage(t *testing.T) {
	f := newFixture(t)
	st, _ := f.start(t, false)
	for _, tt := range []struct {
		query, text string
		status      int
	}{
		{"state=" + st + "&code=" + sentinelCode, "<title>Connected</title>", 200},
		{"state=" + st + "&code=" + sentinelCode, "<title>Connection failed</title>", 400},
	} {
		rec := f.callback(tt.query)
		checkCallbackHeaders(t, rec, tt.query)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.text) {
			t.Errorf("status %d, body %s; want %d and %s", rec.Code, rec.Body, tt.status, tt.text)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP = %q, want default-src 'none' and no script", csp)
		}
		if strings.Contains(rec.Body.String(), "<script") {
			t.Errorf("plain page has a script")
		}
		noSentinel(t, "response", dump(rec), st, sentinelCode)
	}
}

// TestCallbackTwoTabs: flows started in two tabs of one browser each keep their own binding
// cookie, so both complete, whichever order they end in.
func TestCallbackTwoTabs(t *testing.T) {
	f := newFixture(t, connecthttp.WithRedirects(successURL, failureURL))
	stA, ckA := f.start(t, true)
	stB, ckB := f.start(t, true)
	if ckA == nil || ckB == nil || ckA.Name == ckB.Name {
		t.Fatalf("binding cookies %v and %v, want two of different names", ckA, ckB)
	}
	for _, tab := range []struct {
		name, state string
	}{{"second tab", stB}, {"first tab", stA}} {
		q := "state=" + tab.state + "&code=" + sentinelCode
		rec := f.callback(q, ckA, ckB) // the browser sends every cookie it holds
		checkCallbackHeaders(t, rec, q)
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, successURL+"?connectionId=") {
			t.Errorf("%s: Location = %q, want success", tab.name, loc)
		}
	}
}
