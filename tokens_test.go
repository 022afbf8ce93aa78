package connect_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/providers"
)

func TestTokenSourceRefreshRotates(t *testing.T) {
	f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2))
	conn := f.connectExpired(t)

	tok, err := getToken(t, f.c, conn.ID)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken != sentinelAccessToken2 {
		t.Errorf("Token = %q, want the refreshed %q", tok.AccessToken, sentinelAccessToken2)
	}
	reqs := f.srv.requests()
	if len(reqs) != 1 || reqs[0].Form.Get("grant_type") != "refresh_token" || reqs[0].Form.Get("refresh_token") != sentinelRefreshToken {
		t.Fatalf("token requests = %+v, want one refresh_token grant with the old refresh token", reqs)
	}
	if got, err := f.c.Connection(context.Background(), "proj", conn.ID); err != nil || got.Status != connect.StatusWorking {
		t.Errorf("connection after the refresh = %+v, %v; want status working", got, err)
	}

	// A second process over the same stores and keyring sees the new tokens without a request.
	second := f.again(t)
	tok2, err := getToken(t, second, conn.ID)
	if err != nil {
		t.Fatalf("second process Token: %v", err)
	}
	if tok2.AccessToken != sentinelAccessToken2 || tok2.RefreshToken != sentinelRefreshToken2 {
		t.Errorf("second process token = %q / refresh %q; want %q / the rotated %q",
			tok2.AccessToken, tok2.RefreshToken, sentinelAccessToken2, sentinelRefreshToken2)
	}
	if got := f.srv.count(); got != 1 {
		t.Errorf("%d token requests after the second process read, want 1", got)
	}

	// Its next refresh sends the rotated refresh token.
	f.srv.setRespond(answerRefresh(sentinelRefreshToken2, "third-access", ""))
	f.clock.Advance(2 * time.Hour)
	tok3, err := getToken(t, second, conn.ID)
	if err != nil || tok3.AccessToken != "third-access" {
		t.Fatalf("Token after the second expiry = %v, %v; want third-access", tok3, err)
	}
	if reqs := f.srv.requests(); len(reqs) != 2 || reqs[1].Form.Get("refresh_token") != sentinelRefreshToken2 {
		t.Errorf("second refresh sent %q, want the rotated refresh token", reqs[len(reqs)-1].Form.Get("refresh_token"))
	}
}

func TestTokenSourceKeepsRefreshTokenWhenNoneReturned(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, ""))
	conn := f.connectExpired(t)
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if tok.AccessToken != sentinelAccessToken2 || tok.RefreshToken != sentinelRefreshToken {
			t.Errorf("refresh %d: token %q / refresh %q, want %q / the old %q", i, tok.AccessToken, tok.RefreshToken, sentinelAccessToken2, sentinelRefreshToken)
		}
		f.clock.Advance(2 * time.Hour)
	}
	reqs := f.srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d token requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Form.Get("refresh_token"); got != sentinelRefreshToken {
			t.Errorf("request %d sent refresh token %q, want the old one", i, got)
		}
	}
}

// A store that fails as the refreshed token is saved, after the provider spent the old
// refresh token, is asked again: the rotated token is not lost.
func TestTokenSourceSavesThroughAStoreOutage(t *testing.T) {
	f := newFixture(t)
	refresh := answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2)
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		f.conns.failNextPuts(3) // the store goes down while the provider answers
		return refresh(r)
	})
	conn := f.connectExpired(t)

	tok, err := getToken(t, f.c, conn.ID)
	if err != nil || tok.AccessToken != sentinelAccessToken2 {
		t.Fatalf("Token = %v, %v; want %q once the store is back", tok, err, sentinelAccessToken2)
	}
	got, err := getToken(t, f.again(t), conn.ID)
	if err != nil || got.RefreshToken != sentinelRefreshToken2 {
		t.Fatalf("the stored token = %v, %v; want the rotated refresh token", got, err)
	}
	if n := f.srv.count(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

// A provider that rotates the refresh token in an answer connect refuses has spent the old
// one: the rotated token is kept, so the grant survives the refused answer.
func TestTokenSourceKeepsRotatedTokenOfRefusedAnswer(t *testing.T) {
	refused := []struct{ name, contentType, body string }{
		{"token type", "application/json",
			`{"access_token":"refused-access","token_type":"mac","refresh_token":"` + sentinelRefreshToken2 + `","expires_in":3600}`},
		{"form-encoded expires_in", "application/x-www-form-urlencoded",
			"access_token=refused-access&token_type=Bearer&refresh_token=" + sentinelRefreshToken2 + "&expires_in=soon"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
			f.srv.setRespond(func(r tokenRequest) (int, string) {
				if r.Form.Get("refresh_token") != sentinelRefreshToken {
					return http.StatusBadRequest, `{"error":"invalid_grant"}`
				}
				return http.StatusOK, tc.body
			})
			f.srv.setHeader("Content-Type", tc.contentType)
			conn := f.connectExpired(t)
			if tok, err := getToken(t, f.c, conn.ID); !errors.Is(err, connect.ErrExchangeFailed) {
				t.Fatalf("Token = %v, %v; want an error matching ErrExchangeFailed", tok, err)
			}

			f.srv.setRespond(answerRefresh(sentinelRefreshToken2, sentinelAccessToken2, ""))
			f.srv.setHeader("Content-Type", "")
			tok, err := getToken(t, f.again(t), conn.ID)
			if err != nil || tok.AccessToken != sentinelAccessToken2 {
				t.Fatalf("Token after the refused answer = %v, %v; want %q", tok, err, sentinelAccessToken2)
			}
			reqs := f.srv.requests()
			if got := reqs[len(reqs)-1].Form.Get("refresh_token"); got != sentinelRefreshToken2 {
				t.Errorf("the next refresh sent %q, want the rotated refresh token", got)
			}
			if got, err := f.c.Connection(context.Background(), "proj", conn.ID); err != nil || got.Status != connect.StatusWorking {
				t.Errorf("connection = %+v, %v; want status working", got, err)
			}
		})
	}
}

func TestTokenSourceOneRefreshInFlight(t *testing.T) {
	tests := []struct {
		name    string
		sources int // 1: one TokenSource shared; otherwise one per goroutine
	}{
		{"one token source", 1},
		{"20 token sources", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
			f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2))
			f.srv.setDelay(50 * time.Millisecond)
			conn := f.connectExpired(t)
			sources := make([]oauth2.TokenSource, tt.sources)
			for i := range sources {
				ts, err := f.c.TokenSource(context.Background(), conn.ID)
				if err != nil {
					t.Fatal(err)
				}
				sources[i] = ts
			}
			const n = 20
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			toks := make([]*oauth2.Token, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					toks[i], errs[i] = sources[i%len(sources)].Token()
				}()
			}
			close(start)
			wg.Wait()
			for i := range n {
				if errs[i] != nil || toks[i].AccessToken != sentinelAccessToken2 {
					t.Errorf("caller %d: %v, %v; want %s", i, toks[i], errs[i], sentinelAccessToken2)
				}
			}
			if got := f.srv.count(); got != 1 {
				t.Errorf("%d refresh requests for %d concurrent callers, want 1", got, n)
			}
			if got := len(f.events.ofType(connect.EventConnectionRefreshed)); got != 1 {
				t.Errorf("%d refreshed events, want 1", got)
			}
		})
	}
}

func TestTokenSourceInvalidGrant(t *testing.T) {
	// The description echoes the refresh token: it must not reach the error.
	f := newFixture(t)
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		return http.StatusBadRequest, `{"error":"invalid_grant","error_description":"refresh token ` + r.Form.Get("refresh_token") + ` revoked"}`
	})
	conn := f.connectExpired(t)
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if tok != nil || !errors.Is(err, connect.ErrBadCredentials) {
		t.Fatalf("Token = %v, %v; want ErrBadCredentials", tok, err)
	}
	var pe *connect.ProviderError
	if !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Errorf("error %v carries no invalid_grant ProviderError", err)
	}
	assertNoSecrets(t, "the error", err)

	got, err := f.c.Connection(context.Background(), "proj", conn.ID)
	if err != nil {
		t.Fatalf("the connection is gone after invalid_grant: %v", err)
	}
	if got.Status != connect.StatusBadCredentials {
		t.Errorf("status = %q, want %q", got.Status, connect.StatusBadCredentials)
	}
	evs := f.events.ofType(connect.EventConnectionError)
	if len(evs) != 1 || evs[0].Connection == nil || evs[0].Connection.ID != conn.ID ||
		evs[0].Connection.Status != connect.StatusBadCredentials || !errors.Is(evs[0].Err, connect.ErrBadCredentials) {
		t.Errorf("error events = %+v, want one for connection %s with status bad_credentials", evs, conn.ID)
	}

	// Further calls fail at once, without asking the provider again.
	for i, src := range []oauth2.TokenSource{ts, nil} {
		if src == nil {
			if src, err = f.c.TokenSource(context.Background(), conn.ID); err != nil {
				t.Fatal(err)
			}
		}
		if tok, err := src.Token(); tok != nil || !errors.Is(err, connect.ErrBadCredentials) {
			t.Errorf("call %d after invalid_grant = %v, %v; want ErrBadCredentials", i, tok, err)
		}
	}
	if got := f.srv.count(); got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
}

func TestTokenSourceExpiryDelta(t *testing.T) {
	tests := []struct {
		name        string
		delta       time.Duration
		expiresIn   time.Duration
		wantRefresh bool
	}{
		{"10s left, delta 30s", 30 * time.Second, 10 * time.Second, true},
		{"2m left, delta 30s", 30 * time.Second, 2 * time.Minute, false},
		{"expired", 30 * time.Second, -time.Second, true},
		{"20s left, default delta", 0, 20 * time.Second, true},
		{"40s left, default delta", 0, 40 * time.Second, false},
		{"2m left, delta 5m", 5 * time.Minute, 2 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *connect.Config) { c.ExpiryDelta = tt.delta })
			f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, ""))
			conn := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(tt.expiresIn)))
			tok, err := getToken(t, f.c, conn.ID)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			want, wantReqs := sentinelAccessToken, 0
			if tt.wantRefresh {
				want, wantReqs = sentinelAccessToken2, 1
			}
			if tok.AccessToken != want || f.srv.count() != wantReqs {
				t.Errorf("Token = %q after %d requests, want %q after %d", tok.AccessToken, f.srv.count(), want, wantReqs)
			}
		})
	}
}

// TestTokenSourceExpiresIn runs the expires_in values of docs/security.md, M1 through a client
// credentials connection.
func TestTokenSourceExpiresIn(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn string // the raw JSON value; "" leaves the member out
		expiresAt string // the raw JSON value of expires_at, with %d for the clock's Unix time plus an hour
		wantErr   bool
		wantValid time.Duration // how long the token is used before a new one is fetched (0: unknown, one hour)
	}{
		{name: "expires_at number", expiresAt: `%d`, wantValid: time.Hour},
		{name: "expires_at string", expiresAt: `"%d"`, wantValid: time.Hour},
		{name: "expires_in wins over expires_at", expiresIn: `7200`, expiresAt: `%d`, wantValid: 2 * time.Hour},
		{name: "expires_at fraction", expiresAt: `1.5`},
		{name: "expires_at milliseconds", expiresAt: `%d000`},
		{name: "expires_at zero", expiresAt: `0`},
		{name: "expires_at text", expiresAt: `"soon"`},
		{name: "number", expiresIn: `3600`, wantValid: time.Hour},
		{name: "string", expiresIn: `"3600"`, wantValid: time.Hour},
		{name: "null", expiresIn: `null`},
		{name: "zero", expiresIn: `0`},
		{name: "absent"},
		{name: "not a number", expiresIn: `"zzz"`, wantErr: true},
		{name: "boolean", expiresIn: `false`, wantErr: true},
		{name: "object", expiresIn: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.setRespond(func(tokenRequest) (int, string) {
				body := `{"access_token":"` + sentinelAccessToken + `","token_type":"Bearer"`
				if tt.expiresIn != "" {
					body += `,"expires_in":` + tt.expiresIn
				}
				if tt.expiresAt != "" {
					body += `,"expires_at":` + strings.ReplaceAll(tt.expiresAt, "%d", strconv.FormatInt(f.clock.Now().Add(time.Hour).Unix(), 10))
				}
				return http.StatusOK, body + `}`
			})
			r := machineRequest()
			conn, err := f.c.Connect(context.Background(), r)
			if tt.wantErr {
				if conn != nil || !errors.Is(err, connect.ErrExchangeFailed) {
					t.Errorf("Connect = %v, %v; want ErrExchangeFailed", conn, err)
				}
				f.assertRefused(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			tok, err := getToken(t, f.c, conn.ID)
			if err != nil || tok.AccessToken != sentinelAccessToken {
				t.Fatalf("Token = %v, %v", tok, err)
			}
			switch {
			case tt.wantValid == 0 && !tok.Expiry.IsZero():
				t.Errorf("Expiry = %v, want zero (unknown)", tok.Expiry)
			case tt.wantValid != 0 && (tok.Expiry.IsZero() || absDuration(tok.Expiry.Sub(f.clock.Now().Add(tt.wantValid))) > 5*time.Second):
				t.Errorf("Expiry = %v, want about %v", tok.Expiry, f.clock.Now().Add(tt.wantValid))
			}
			// An unknown expiry is not "never": after an hour and a bit a new token is fetched.
			valid := tt.wantValid
			if valid == 0 {
				valid = time.Hour
			}
			f.clock.Advance(valid - time.Minute)
			if _, err := getToken(t, f.c, conn.ID); err != nil || f.srv.count() != 1 {
				t.Errorf("Token a minute before expiry: %v after %d requests, want no new request", err, f.srv.count())
			}
			f.clock.Advance(2 * time.Minute)
			if _, err := getToken(t, f.c, conn.ID); err != nil || f.srv.count() != 2 {
				t.Errorf("Token a minute after expiry: %v after %d requests, want a new request", err, f.srv.count())
			}
		})
	}
}

// TestTokenSourceExpiresInOutOfRange covers the other values of docs/security.md, M1: a negative
// expires_in gives a token that is expired at once, a huge one is clamped.
func TestTokenSourceExpiresInOutOfRange(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn string
		check     func(t *testing.T, f *fixture, tok *oauth2.Token, requests int)
	}{
		{"negative", "-1", func(t *testing.T, f *fixture, tok *oauth2.Token, requests int) {
			if requests != 2 {
				t.Errorf("a token with expires_in -1 was reused: %d requests, want 2", requests)
			}
		}},
		{"above int32", "2147483648", func(t *testing.T, f *fixture, tok *oauth2.Token, requests int) {
			max := f.clock.Now().Add(math.MaxInt32 * time.Second)
			if tok.Expiry.After(max.Add(time.Minute)) || requests != 1 {
				t.Errorf("Expiry = %v after %d requests; want at most %v (clamped) and 1 request", tok.Expiry, requests, max)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.setRespond(func(tokenRequest) (int, string) {
				return http.StatusOK, `{"access_token":"` + sentinelAccessToken + `","token_type":"Bearer","expires_in":` + tt.expiresIn + `}`
			})
			r := machineRequest()
			conn := f.connect(t, r)
			tok, err := getToken(t, f.c, conn.ID)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			tt.check(t, f, tok, f.srv.count())
		})
	}
}

// absDuration is |d|, saturated: time.Sub of a zero time gives math.MinInt64, whose negation
// overflows back to itself.
func absDuration(d time.Duration) time.Duration {
	if d == math.MinInt64 {
		return math.MaxInt64
	}
	if d < 0 {
		return -d
	}
	return d
}

// TestTokenSourceCachedUnknownExpiry: a token source that has handed out a token of unknown
// expiry must not keep handing it out for ever (docs/security.md, M1: unknown is not "never").
func TestTokenSourceCachedUnknownExpiry(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(func(tokenRequest) (int, string) {
		return http.StatusOK, `{"access_token":"` + sentinelAccessToken + `","token_type":"Bearer"}`
	})
	r := machineRequest()
	conn := f.connect(t, r)
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.count(); got != 2 {
		t.Errorf("the same TokenSource made %d token requests over two hours, want 2 (unknown expiry lasts an hour)", got)
	}
}

// TestTokenSourceExpiryUsesConfigClock: the expiry of a fetched token is computed with
// Config.Now (docs/security.md, M1: an injectable clock everywhere).
func TestTokenSourceExpiryUsesConfigClock(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, ""))
	f.clock.Advance(24 * time.Hour) // the injected clock is a day ahead of the wall clock
	conn := f.connectExpired(t)
	tok, err := getToken(t, f.c, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(time.Hour); absDuration(tok.Expiry.Sub(want)) > 5*time.Second {
		t.Errorf("Expiry = %v, want %v (Config.Now + expires_in)", tok.Expiry, want)
	}
	if _, err := getToken(t, f.c, conn.ID); err != nil || f.srv.count() != 1 {
		t.Errorf("a token just refreshed for an hour was refreshed again: %d requests, %v", f.srv.count(), err)
	}
}

func TestTokenSourceErrors(t *testing.T) {
	f := newFixture(t)
	r := connectionRequest("keyed")
	r.APIKey = sentinelAPIKey
	keyed := f.connect(t, r)
	r = connectionRequest("basic")
	r.BasicAuth = &connect.BasicAuth{Username: "u", Password: sentinelBasicPassword}
	basic := f.connect(t, r)
	tests := []struct {
		name string
		id   string
		want error
	}{
		{"apiKey connection", keyed.ID, connect.ErrNotOAuth},
		{"basic connection", basic.ID, connect.ErrNotOAuth},
		{"unknown id", "00000000-0000-4000-8000-000000000000", connect.ErrConnectionNotFound},
		{"empty id", "", connect.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := f.c.TokenSource(context.Background(), tt.id)
			if ts != nil || !errors.Is(err, tt.want) {
				t.Errorf("TokenSource = %v, %v; want %v", ts, err, tt.want)
			}
		})
	}

	t.Run("deleted after the source was made", func(t *testing.T) {
		conn := f.connect(t, importRequest(sentinelAccessToken, "", time.Time{}))
		ts, err := f.c.TokenSource(context.Background(), conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.c.DeleteConnection(context.Background(), "proj", conn.ID); err != nil {
			t.Fatal(err)
		}
		if tok, err := ts.Token(); tok != nil || !errors.Is(err, connect.ErrConnectionNotFound) {
			t.Errorf("Token of a deleted connection = %v, %v; want ErrConnectionNotFound", tok, err)
		}
	})
	t.Run("expired without a refresh token", func(t *testing.T) {
		conn := f.connect(t, importRequest(sentinelAccessToken, "", f.clock.Now().Add(-time.Minute)))
		if tok, err := getToken(t, f.c, conn.ID); tok != nil || !errors.Is(err, connect.ErrBadCredentials) {
			t.Errorf("Token = %v, %v; want ErrBadCredentials", tok, err)
		}
	})
}

func TestTokenSourceRefusesRedirects(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			other := newTokenServer(t)
			other.setRespond(answerToken("stolen", "", 3600))
			f := newFixture(t)
			f.srv.setHeader("Location", other.URL)
			f.srv.setRespond(func(tokenRequest) (int, string) { return status, "" })

			conn := f.connectExpired(t)
			tok, err := getToken(t, f.c, conn.ID)
			if tok != nil || !errors.Is(err, connect.ErrUnexpectedRedirect) {
				t.Errorf("refresh Token = %v, %v; want ErrUnexpectedRedirect", tok, err)
			}
			assertNoSecrets(t, "the error", err)
			if got, _ := f.c.Connection(context.Background(), "proj", conn.ID); got == nil || got.Status == connect.StatusBadCredentials {
				t.Errorf("a redirect marked the connection %+v", got)
			}

			r := machineRequest()
			c, err := f.c.Connect(context.Background(), r)
			if c != nil || !errors.Is(err, connect.ErrUnexpectedRedirect) {
				t.Errorf("client credentials Connect = %v, %v; want ErrUnexpectedRedirect", c, err)
			}
			assertNoSecrets(t, "the error", err)
			if got := len(f.records(t, "proj")); got != 1 {
				t.Errorf("%d records, want only the imported one", got)
			}
			if f.srv.count() != 2 || other.count() != 0 {
				t.Errorf("the token endpoint got %d requests and the redirect target %d; want 2 and 0", f.srv.count(), other.count())
			}
		})
	}
}

// TestTokenSourceRefreshRaceAcrossReplicas: three replicas, each with eight callers, ask for
// the same expired token at once, at a provider that rotates refresh tokens and, like
// fosite, answers a reused refresh token by revoking the whole grant. The refresh lease lets
// exactly one replica refresh: every caller gets the new token, and the grant survives for
// the next refresh.
func TestTokenSourceRefreshRaceAcrossReplicas(t *testing.T) {
	var (
		mu       sync.Mutex
		current  = sentinelRefreshToken
		revoked  bool
		requests int
		round    int
	)
	f := newFixture(t)
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		time.Sleep(30 * time.Millisecond) // a slow provider widens the race
		mu.Lock()
		defer mu.Unlock()
		requests++
		if revoked || r.Form.Get("refresh_token") != current {
			revoked = true // reuse detected: the grant is revoked
			return http.StatusBadRequest, `{"error":"invalid_grant"}`
		}
		round++
		current = fmt.Sprintf("refresh-%d", round)
		return http.StatusOK, tokenJSON(fmt.Sprintf("access-%d", round), current, 3600)
	})
	conn := f.connectExpired(t)
	replicas := []*connect.Connector{f.c, f.again(t), f.again(t)}
	for r := 1; r <= 3; r++ {
		var wg sync.WaitGroup
		var got sync.Map
		var failures atomic.Int64
		for _, c := range replicas {
			ts, err := c.TokenSource(context.Background(), conn.ID)
			if err != nil {
				t.Fatal(err)
			}
			for range 8 {
				wg.Go(func() {
					tok, err := ts.Token()
					if err != nil {
						failures.Add(1)
						t.Errorf("round %d: Token: %v", r, err)
						return
					}
					got.Store(tok.AccessToken, true)
				})
			}
		}
		wg.Wait()
		mu.Lock()
		reqs, rev := requests, revoked
		mu.Unlock()
		want := fmt.Sprintf("access-%d", r)
		got.Range(func(k, _ any) bool {
			if k != want {
				t.Errorf("round %d: a caller got %v, want %s", r, k, want)
			}
			return true
		})
		if reqs != r || rev || failures.Load() != 0 {
			t.Fatalf("round %d: %d refresh requests in all (want %d), grant revoked: %t, %d failures", r, reqs, r, rev, failures.Load())
		}
		f.clock.Advance(2 * time.Hour)
	}
	if got, err := f.c.Connection(context.Background(), "proj", conn.ID); err != nil || got.Status != connect.StatusWorking {
		t.Errorf("connection = %+v, %v; want status working", got, err)
	}
}

// TestTokenSourceWaitsForAnotherReplica: while one replica refreshes, another waits for its
// token instead of refreshing too; the wait ends with the caller's context.
func TestTokenSourceWaitsForAnotherReplica(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int64
	f := newFixture(t)
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		requests.Add(1)
		<-release
		return http.StatusOK, tokenJSON(sentinelAccessToken2, sentinelRefreshToken2, 3600)
	})
	conn := f.connectExpired(t)
	other := f.again(t)

	done := make(chan error, 1)
	go func() {
		tok, err := getToken(t, f.c, conn.ID)
		if err == nil && tok.AccessToken != sentinelAccessToken2 {
			err = fmt.Errorf("got %q", tok.AccessToken)
		}
		done <- err
	}()
	for requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	ts, err := other.TokenSource(ctx, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the waiting replica's Token = %v, %v; want context.DeadlineExceeded", tok, err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d refresh requests while one replica held the lease, want 1", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the refreshing replica: %v", err)
	}
	if tok, err := getToken(t, other, conn.ID); err != nil || tok.AccessToken != sentinelAccessToken2 || requests.Load() != 1 {
		t.Errorf("the other replica then gets %v, %v after %d requests; want %s and no new request", tok, err, requests.Load(), sentinelAccessToken2)
	}
}

// TestTokenSourceLeaseReleasedOnFailure: a replica whose refresh fails gives its lease up,
// so another may refresh at once rather than wait for the lease to run out.
func TestTokenSourceLeaseReleasedOnFailure(t *testing.T) {
	var requests atomic.Int64
	f := newFixture(t)
	f.srv.setRespond(func(r tokenRequest) (int, string) {
		if requests.Add(1) == 1 {
			return http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`
		}
		return http.StatusOK, tokenJSON(sentinelAccessToken2, sentinelRefreshToken2, 3600)
	})
	conn := f.connectExpired(t)
	if _, err := getToken(t, f.c, conn.ID); err == nil {
		t.Fatal("the first refresh succeeded, want the provider's error")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts, err := f.again(t).TokenSource(ctx, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAccessToken2 || requests.Load() != 2 {
		t.Errorf("another replica's Token = %v, %v after %d requests; want %s after 2", tok, err, requests.Load(), sentinelAccessToken2)
	}
}

// TestTokenSourceKeepsTokenEndpoint: refreshes go to the token endpoint fixed when the
// connection was made, even if the provider's entry changes later.
func TestTokenSourceKeepsTokenEndpoint(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, ""))
	moved := newTokenServer(t)
	moved.setRespond(answerRefresh(sentinelRefreshToken, "from-the-new-endpoint", ""))
	conn := f.connectExpired(t)
	later := f.again(t, func(c *connect.Config) { c.Providers = testRegistry(t, moved.URL) })
	tok, err := getToken(t, later, conn.ID)
	if err != nil || tok.AccessToken != sentinelAccessToken2 {
		t.Fatalf("Token = %v, %v; want %s from the original endpoint", tok, err, sentinelAccessToken2)
	}
	if f.srv.count() != 1 || moved.count() != 0 {
		t.Errorf("original endpoint got %d requests, the new one %d; want 1 and 0", f.srv.count(), moved.count())
	}
}

// TestTokenSourceStoreFailure: a refresh whose result cannot be saved fails closed with
// ErrStoreUnavailable and leaks no token.
func TestTokenSourceStoreFailure(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2))
	conn := f.connectExpired(t)
	f.conns.failPuts(0)
	tok, err := getToken(t, f.c, conn.ID)
	if tok != nil || !errors.Is(err, connect.ErrStoreUnavailable) {
		t.Fatalf("Token with a failing store = %v, %v; want ErrStoreUnavailable", tok, err)
	}
	assertNoSecrets(t, "the error", err)
}

// TestTokenSourceRefreshURL: a provider that redeems refresh tokens at an endpoint of its own
// (Figma's /v1/oauth/refresh) gets the refresh there, and the token URL never sees it; the
// endpoint is fixed with the connection, as the token URL is.
func TestTokenSourceRefreshURL(t *testing.T) {
	refresh := newTokenServer(t)
	refresh.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, sentinelRefreshToken2))
	f := newFixture(t, editProvider(t, "oauth", func(p *providers.Provider) { p.RefreshURL = refresh.URL }))
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, "from-the-token-url", ""))
	conn := f.connectExpired(t)
	// A replica whose catalog no longer has the refresh URL still uses the one fixed.
	later := f.again(t, func(c *connect.Config) { c.Providers = testRegistry(t, f.srv.URL) })
	tok, err := getToken(t, later, conn.ID)
	if err != nil || tok.AccessToken != sentinelAccessToken2 || tok.RefreshToken != sentinelRefreshToken2 {
		t.Fatalf("Token = %v, %v; want %s from the refresh URL", tok, err, sentinelAccessToken2)
	}
	if f.srv.count() != 0 || refresh.count() != 1 {
		t.Errorf("the token URL got %d requests and the refresh URL %d; want 0 and 1", f.srv.count(), refresh.count())
	}
}

// rotating is a token endpoint that rotates refresh tokens as fosite does: a refresh token
// is spent as soon as a request with it arrives, and a spent one is answered with
// invalid_grant. Client credentials grants get a new token each. Each token it issues is
// announced on arrived and then held back until hold is closed.
type rotating struct {
	*tokenServer
	arrived chan struct{}
	hold    chan struct{}

	mu      sync.Mutex
	current string
	round   int
}

// newRotating makes srv a rotating token endpoint.
func newRotating(srv *tokenServer) *rotating {
	s := &rotating{tokenServer: srv, arrived: make(chan struct{}, 16), hold: make(chan struct{}), current: sentinelRefreshToken}
	srv.setRespond(s.respond)
	return s
}

func (s *rotating) respond(r tokenRequest) (int, string) {
	s.mu.Lock()
	if r.Form.Get("grant_type") == "refresh_token" && r.Form.Get("refresh_token") != s.current {
		s.mu.Unlock()
		return http.StatusBadRequest, `{"error":"invalid_grant"}`
	}
	s.round++
	access, refresh := fmt.Sprintf("access-%d", s.round), ""
	if r.Form.Get("grant_type") == "refresh_token" {
		refresh = fmt.Sprintf("refresh-%d", s.round)
		s.current = refresh
	}
	s.mu.Unlock()
	s.arrived <- struct{}{}
	<-s.hold
	return http.StatusOK, tokenJSON(access, refresh, 3600)
}

// sent lists the refresh tokens of the refresh requests, in order.
func (s *rotating) sent() []string {
	var out []string
	for _, r := range s.requests() {
		if r.Form.Get("grant_type") == "refresh_token" {
			out = append(out, r.Form.Get("refresh_token"))
		}
	}
	return out
}

// connectMachine connects the client credentials provider "machine", holding the rotating
// endpoint's first answer until the connection is made.
func (s *rotating) connectMachine(t testing.TB, f *fixture) *connect.Connection {
	t.Helper()
	go func() { <-s.arrived; s.hold <- struct{}{} }()
	return f.connect(t, machineRequest())
}

// TestTokenSourceRefreshOutlivesCaller: a caller that gives up while its refresh is at the
// provider only stops waiting. The refresh runs to its end and saves the rotated refresh
// token, which the next refresh sends; the connection keeps working.
func TestTokenSourceRefreshOutlivesCaller(t *testing.T) {
	tests := []struct {
		name    string
		machine bool // client credentials rather than a refresh token
		ctx     func() (context.Context, context.CancelFunc, func())
		want    error
	}{
		{"cancelled", false, func() (context.Context, context.CancelFunc, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, cancel, cancel
		}, context.Canceled},
		{"deadline", false, func() (context.Context, context.CancelFunc, func()) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			return ctx, cancel, func() {}
		}, context.DeadlineExceeded},
		{"client credentials cancelled", true, func() (context.Context, context.CancelFunc, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, cancel, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
			srv := newRotating(f.srv)
			var conn *connect.Connection
			if tt.machine {
				conn = srv.connectMachine(t, f)
				f.clock.Advance(2 * time.Hour)
			} else {
				conn = f.connectExpired(t)
			}
			requestsBefore := srv.count()
			ctx, cancel, giveUp := tt.ctx()
			defer cancel()
			ts, err := f.c.TokenSource(ctx, conn.ID)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				tok, err := ts.Token()
				if tok != nil {
					err = fmt.Errorf("got a token %q", tok.AccessToken)
				}
				done <- err
			}()
			<-srv.arrived
			giveUp()
			if err := <-done; !errors.Is(err, tt.want) {
				t.Errorf("Token of the caller who gave up = %v, want an error matching %v", err, tt.want)
			} else {
				assertNoSecrets(t, "the error", err)
			}
			close(srv.hold) // the provider answers only now

			// Asked again, the Connector hands out the token the provider issued (waiting
			// for the refresh if need be), and another replica reads it from the store:
			// neither makes a request of its own.
			other := f.again(t)
			want := fmt.Sprintf("access-%d", requestsBefore+1)
			for _, c := range []*connect.Connector{f.c, other} {
				if tok, err := getToken(t, c, conn.ID); err != nil || tok.AccessToken != want {
					t.Fatalf("Token after the provider answered = %v, %v; want %s", tok, err, want)
				}
			}
			if got := srv.count(); got != requestsBefore+1 {
				t.Errorf("%d token requests after the first, want none: the issued token was not saved", got-requestsBefore-1)
			}
			// The next refresh sends the rotated refresh token, never the spent one again.
			f.clock.Advance(2 * time.Hour)
			if tok, err := getToken(t, other, conn.ID); err != nil || tok.AccessToken != fmt.Sprintf("access-%d", requestsBefore+2) {
				t.Errorf("next Token = %v, %v; want the next token", tok, err)
			}
			if want := []string{sentinelRefreshToken, "refresh-1"}; !tt.machine && fmt.Sprint(srv.sent()) != fmt.Sprint(want) {
				t.Errorf("refresh tokens sent = %v, want %v", srv.sent(), want)
			}
			if got, err := f.c.Connection(context.Background(), "proj", conn.ID); err != nil || got.Status != connect.StatusWorking {
				t.Errorf("connection = %+v, %v; want status working", got, err)
			}
		})
	}
}

// TestTokenSourceWaiterGivingUpFailsNoOther: two callers wait for the same refresh; the
// first one's deadline passes while the provider has not answered. The second still gets
// the token, from the one refresh.
func TestTokenSourceWaiterGivingUpFailsNoOther(t *testing.T) {
	f := newFixture(t)
	srv := newRotating(f.srv)
	conn := f.connectExpired(t)
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	first, err := f.c.TokenSource(short, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		tok *oauth2.Token
		err error
	}
	firstDone, secondDone := make(chan result, 1), make(chan result, 1)
	go func() { tok, err := first.Token(); firstDone <- result{tok, err} }()
	<-srv.arrived
	go func() { tok, err := second.Token(); secondDone <- result{tok, err} }()
	if r := <-firstDone; r.tok != nil || !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("first caller = %v, %v; want context.DeadlineExceeded", r.tok, r.err)
	}
	close(srv.hold)
	if r := <-secondDone; r.err != nil || r.tok.AccessToken != "access-1" {
		t.Fatalf("second caller = %v, %v; want access-1", r.tok, r.err)
	}
	if got := srv.sent(); len(got) != 1 {
		t.Errorf("refresh tokens sent = %v, want one refresh", got)
	}
	if got, err := f.c.Connection(context.Background(), "proj", conn.ID); err != nil || got.Status != connect.StatusWorking {
		t.Errorf("connection = %+v, %v; want status working", got, err)
	}
}

// TestTokenSourceStopsAfterDeletion: a token source that has handed out a valid token stops
// once its connection is deleted: at once when it is deleted through the same Connector, and
// within TokenRecheckInterval when another replica deletes it. Credentials stop too.
func TestTokenSourceStopsAfterDeletion(t *testing.T) {
	tests := []struct {
		name       string
		project    string        // "" uses TokenSource, otherwise TokenSourceFor
		elsewhere  bool          // deleted by another Connector sharing the store
		wait       time.Duration // clock advance before the Token that must fail
		credential bool          // an API key connection, read with Credentials
	}{
		{name: "same connector", wait: 0},
		{name: "same connector, TokenSourceFor", project: "proj"},
		{name: "another replica, at the recheck", elsewhere: true, wait: connect.TokenRecheckInterval},
		{name: "another replica, at the refresh", elsewhere: true, wait: 3 * time.Hour},
		{name: "credentials, same connector", credential: true},
		{name: "credentials, another replica", credential: true, elsewhere: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, ""))
			deleter := f.c
			if tt.elsewhere {
				deleter = f.again(t)
			}
			ctx := context.Background()
			if tt.credential {
				r := connectionRequest("keyed")
				r.APIKey = sentinelAPIKey
				conn := f.connect(t, r)
				if cr, err := f.c.Credentials(ctx, "proj", conn.ID); err != nil || cr.APIKey.Reveal() != sentinelAPIKey {
					t.Fatalf("Credentials before the deletion = %v, %v", cr, err)
				}
				if err := deleter.DeleteConnection(ctx, "proj", conn.ID); err != nil {
					t.Fatal(err)
				}
				if cr, err := f.c.Credentials(ctx, "proj", conn.ID); cr != nil || !errors.Is(err, connect.ErrConnectionNotFound) {
					t.Errorf("Credentials after the deletion = %v, %v; want ErrConnectionNotFound", cr, err)
				}
				return
			}
			conn := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(2*time.Hour)))
			var ts oauth2.TokenSource
			var err error
			if tt.project == "" {
				ts, err = f.c.TokenSource(ctx, conn.ID)
			} else {
				ts, err = f.c.TokenSourceFor(ctx, tt.project, conn.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAccessToken {
				t.Fatalf("Token before the deletion = %v, %v", tok, err)
			}
			if err := deleter.DeleteConnection(ctx, "proj", conn.ID); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(tt.wait)
			if tok, err := ts.Token(); tok != nil || !errors.Is(err, connect.ErrConnectionNotFound) {
				t.Errorf("Token after the deletion = %v, %v; want ErrConnectionNotFound", tok, err)
			}
			if f.srv.count() != 0 {
				t.Errorf("%d token requests for a deleted connection, want 0", f.srv.count())
			}
		})
	}
}

// TestTokenSourceRecheckKeepsServing: the store read at TokenRecheckInterval of a connection
// that still exists hands out the same valid token, with no token request.
func TestTokenSourceRecheckKeepsServing(t *testing.T) {
	f := newFixture(t)
	f.srv.setRespond(answerRefresh(sentinelRefreshToken, sentinelAccessToken2, ""))
	conn := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(2*time.Hour)))
	other := f.connect(t, func() connect.ConnectionRequest {
		r := importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(2*time.Hour))
		r.ConsumerRef = "user-2"
		return r
	}())
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []func(){
		func() {},
		func() { f.clock.Advance(connect.TokenRecheckInterval) },
		func() {
			if err := f.c.DeleteConnection(context.Background(), "proj", other.ID); err != nil {
				t.Fatal(err)
			}
		},
	} {
		step()
		if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAccessToken {
			t.Errorf("step %d: Token = %v, %v; want the stored token", i, tok, err)
		}
	}
	if f.srv.count() != 0 {
		t.Errorf("%d token requests, want 0", f.srv.count())
	}
}

// TestTokenSourceDeletedWhileRead: a Token call that read the connection just before it was
// deleted, and returns after DeleteConnection did, does not hand out the token.
func TestTokenSourceDeletedWhileRead(t *testing.T) {
	f := newFixture(t)
	conn := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(2*time.Hour)))
	ts, err := f.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	paused, resume := f.conns.pauseNextGet()
	type result struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan result, 1)
	go func() { tok, err := ts.Token(); done <- result{tok, err} }()
	<-paused
	if err := f.c.DeleteConnection(context.Background(), "proj", conn.ID); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if r := <-done; r.tok != nil || !errors.Is(r.err, connect.ErrConnectionNotFound) {
		t.Errorf("Token = %v, %v; want ErrConnectionNotFound", r.tok, r.err)
	}
}

func TestTokenSourceForIsScopedByProject(t *testing.T) {
	f := newFixture(t)
	conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.TokenSourceFor(context.Background(), "other-project", conn.ID); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("TokenSourceFor(another project) = %v, want ErrConnectionNotFound", err)
	}
	ts, err := f.c.TokenSourceFor(context.Background(), conn.ProjectID, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAccessToken {
		t.Errorf("Token = %v, %v", tok, err)
	}
	_, err = f.c.TokenSourceFor(context.Background(), "", conn.ID)
	assertField(t, err, "projectId")
}
