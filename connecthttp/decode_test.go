package connecthttp_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestBodyRoutesRefuse(t *testing.T) {
	tests := []struct {
		name   string
		method string
		ctype  []string // nil means application/json
		body   string   // "" means the route's valid body
		status int
		slug   string
		field  string
	}{
		{name: "GET", method: http.MethodGet, status: 405, slug: "method-not-allowed"},
		{name: "PUT", method: http.MethodPut, status: 405, slug: "method-not-allowed"},
		{name: "no content type", ctype: []string{}, status: 415, slug: "unsupported-media-type"},
		{name: "text/plain", ctype: []string{"text/plain"}, status: 415, slug: "unsupported-media-type"},
		{name: "form", ctype: []string{"application/x-www-form-urlencoded"}, status: 415, slug: "unsupported-media-type"},
		{name: "multipart", ctype: []string{"multipart/form-data; boundary=x"}, status: 415, slug: "unsupported-media-type"},
		{name: "latin1", ctype: []string{"application/json; charset=latin1"}, status: 415, slug: "unsupported-media-type"},
		{name: "two types", ctype: []string{"application/json", "text/plain"}, status: 415, slug: "unsupported-media-type"},
		{name: "bad JSON", body: `{"provider":`, status: 400, slug: "invalid-body"},
		{name: "not JSON", body: `provider=salesforce`, status: 400, slug: "invalid-body"},
		{name: "empty", body: " ", status: 400, slug: "invalid-body"},
		{name: "array", body: `[]`, status: 400, slug: "invalid-body"},
		{name: "unknown field", body: `{"evilField":1}`, status: 400, slug: "invalid-body", field: "evilField"},
		{name: "trailing object", body: `{} {}`, status: 400, slug: "invalid-body"},
		{name: "trailing garbage", body: `{}x`, status: 400, slug: "invalid-body"},
		{name: "too large", body: `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, status: 413, slug: "body-too-large"},
		{name: "too large after value", body: `{}` + strings.Repeat(" ", 70<<10), status: 413, slug: "body-too-large"},
	}
	f := newFixture(t)
	for _, route := range startRoutes {
		for _, tt := range tests {
			if tt.method == http.MethodGet && route.name == "connections" {
				continue // GET lists the connections
			}
			t.Run(route.name+"/"+tt.name, func(t *testing.T) {
				method := tt.method
				if method == "" {
					method = http.MethodPost
				}
				body := tt.body
				if body == "" {
					body = route.body
				}
				r := newRequest(method, route.path, body)
				if tt.ctype != nil {
					r.Header.Del("Content-Type")
					for _, v := range tt.ctype {
						r.Header.Add("Content-Type", v)
					}
				}
				rec := f.serve(r)
				var fields []string
				if tt.field != "" {
					fields = []string{tt.field}
				}
				checkProblem(t, rec, tt.status, tt.slug, fields...)
				if tt.status == 405 {
					if got := rec.Header().Get("Allow"); !strings.Contains(got, "POST") {
						t.Errorf("Allow = %q, want it to list POST", got)
					}
				}
			})
		}
	}
}
