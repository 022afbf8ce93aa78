package connecthttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkOAuthConnect serves Ampersand's oauth-connect request in process: authentication, decoding,
// validation, a state token and PKCE verifier, the memory state store and the answer.
func BenchmarkOAuthConnect(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		rec := f.do(http.MethodPost, "/v1/oauth-connect", ampersandConnectBody)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkConstantURL is a bare net/http handler writing a constant JSON string, the floor
// BenchmarkOAuthConnect compares with.
func BenchmarkConstantURL(b *testing.B) {
	const u = "https://login.salesforce.com/services/oauth2/authorize?client_id=xxx&redirect_uri=https%3A%2F%2Fapi.withampersand.com%2Fcallbacks%2Fv1%2Foauth&state=xxx"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(u)
	})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(http.MethodPost, "/v1/oauth-connect", ampersandConnectBody))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
