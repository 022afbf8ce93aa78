package connect_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connect"
)

// FuzzCallbackQuery sends arbitrary queries to the callback of a pending flow: it never
// panics, and a callback refused as malformed never reaches the token endpoint.
func FuzzCallbackQuery(f *testing.F) {
	for _, q := range []string{
		"code=c&state=STATE", "code=c&state=STATE&state=STATE", "error=access_denied&state=STATE",
		"code=c&error=x&state=STATE", "state=STATE", "code=%zz&state=STATE", "code=c&state=STATE&iss=https%3A%2F%2Fa",
		"error=a&error_description=%3Cscript%3E&error_uri=javascript:x&state=STATE", "code=c;state=STATE",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		fx := newFixture(t)
		a := fx.begin(t)
		query = strings.ReplaceAll(query, "STATE", a.State)
		r, err := http.NewRequest(http.MethodGet, "https://api.example.com/cb", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.URL.RawQuery = query
		conn, err := fx.c.Callback(context.Background(), r)
		switch {
		case err == nil:
			if conn == nil || fx.srv.count() != 1 {
				t.Fatalf("success with connection %v after %d token requests", conn, fx.srv.count())
			}
		case errors.Is(err, connect.ErrMalformedCallback), errors.Is(err, connect.ErrInvalidState):
			if fx.srv.count() != 0 {
				t.Fatalf("a malformed callback (%v) reached the token endpoint", err)
			}
		}
	})
}

// FuzzTokenResponse answers a code exchange with arbitrary responses: the callback never
// panics, stores a connection only with an access token and an expiry between now and a year
// from now (or none), never repeats the body, and makes only provider errors safe to render.
func FuzzTokenResponse(f *testing.F) {
	for _, b := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600}`, `{"access_token":"a","expires_in":"3600"}`,
		`{"error":"invalid_grant","error_description":"x"}`, `{"access_token":"a","token_type":"mac"}`,
		`{"access_token":"a","expires_in":-1}`, `{"access_token":"a","expires_in":2147483648}`, `<html>`, ``,
		`{"access_token":"a","scope":"a b c"}`, `access_token=a&token_type=bearer`,
		`{"access_token":"a","expires_in":-2147483649}`, `{"access_token":"a","expires_in":"-2147483649"}`,
		`{"access_token":"a","expires_in":"abc"}`, `{"access_token":"a","expires_in":1e400}`,
		`{"access_token":"a","expires_at":99999999999}`, `{"access_token":"a","expires_at":-5}`,
		`{"error":"<b>MARK</b>","error_description":"MARK","error_uri":"https://a.example/MARK"}`,
	} {
		f.Add(200, "application/json", b)
	}
	f.Add(502, "text/html", "<html>oops</html>")
	f.Add(400, "application/x-www-form-urlencoded", "error=invalid_grant")
	f.Add(200, "application/x-www-form-urlencoded", "access_token=a&expires_in=NaN")
	f.Add(200, "application/x-www-form-urlencoded", "access_token=a&expires_in=99999999999999999999")
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 200 || status > 599 {
			status = 200
		}
		const marker = "ZZMARKERZZ"
		fx := newFixture(t)
		fx.srv.setHeader("Content-Type", contentType)
		fx.srv.setRespond(func(tokenRequest) (int, string) { return status, strings.ReplaceAll(body, "MARK", marker) })
		a := fx.begin(t)
		conn, err := fx.c.Callback(context.Background(), callbackRequest("code=c&state="+a.State))
		stored := len(fx.records(t, "proj"))
		if err != nil {
			if conn != nil || stored != 0 {
				t.Fatalf("error %v with connection %v and %d stored", err, conn, stored)
			}
			if strings.Contains(err.Error(), marker) && !strings.Contains(err.Error(), "provider error") {
				t.Fatalf("error repeats the response body: %v", err)
			}
			var pe *connect.ProviderError
			if errors.As(err, &pe) && !safeProviderError(pe) {
				t.Fatalf("provider error %+v is not safe to render", pe)
			}
			return
		}
		if stored != 1 {
			t.Fatalf("success with %d connections stored", stored)
		}
		ts, err := fx.c.TokenSource(context.Background(), conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			return // an expired token's refresh reached the same fuzzed endpoint
		}
		if tok.AccessToken == "" {
			t.Fatalf("a stored connection without an access token")
		}
		if !tok.Expiry.IsZero() && (tok.Expiry.Before(fx.clock.Now()) || tok.Expiry.After(fx.clock.Now().Add(365*24*time.Hour))) {
			t.Fatalf("expiry %v is not between now (%v) and a year from now", tok.Expiry, fx.clock.Now())
		}
	})
}

// safeProviderError reports whether a provider error's fields keep to connect's rules.
func safeProviderError(pe *connect.ProviderError) bool {
	for i := 0; i < len(pe.Code); i++ {
		if c := pe.Code[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return pe.Code != "" && len(pe.Code) <= 64 && len(pe.Description) <= 512 &&
		!strings.ContainsAny(pe.Description, "<>&'\"\\\r\n") && (pe.URI == "" || strings.HasPrefix(pe.URI, "https://"))
}
