package connect

import (
	"net/http"
	"strings"
	"testing"
)

func TestInsufficientScope(t *testing.T) {
	for _, tc := range []struct {
		fields []string
		want   bool
	}{
		{[]string{`Bearer error="insufficient_scope"`}, true},
		{[]string{`Bearer realm="example", error="insufficient_scope", error_description="needs users:read", scope="users:read"`}, true},
		{[]string{`bearer ERROR = insufficient_scope`}, true},
		{[]string{`Basic realm="files", Bearer scope="a b", error="insufficient_scope"`}, true},
		{[]string{`Basic dXNlcjpwYXNz==, Bearer error="insufficient_scope"`}, true},
		{[]string{`Basic realm="x"`, `Bearer error="insufficient_scope"`}, true},
		{[]string{`Bearer error="insufficient\_scope"`}, true},
		{nil, false},
		{[]string{``}, false},
		{[]string{`Bearer error="invalid_token"`}, false},
		{[]string{`Bearer error="Insufficient_Scope"`}, false},
		{[]string{`Bearer error_description="error=\"insufficient_scope\""`}, false},
		{[]string{`Basic realm="Bearer error=\"insufficient_scope\""`}, false},
		{[]string{`Bearer realm="a, error=\"insufficient_scope\""`}, false},
		{[]string{`Newauth error="insufficient_scope"`}, false},
		{[]string{`error="insufficient_scope"`}, false},
		{[]string{`Bearer xerror="insufficient_scope"`}, false},
		{[]string{`Bearer error="insufficient_scope`}, true}, // unterminated, as a lenient reader takes it
	} {
		h := http.Header{"Www-Authenticate": tc.fields}
		if got := insufficientScope(h); got != tc.want {
			t.Errorf("insufficientScope(%q) = %v, want %v", tc.fields, got, tc.want)
		}
	}
}

// FuzzInsufficientScope reads arbitrary WWW-Authenticate fields: it never panics or loops,
// and a field holding no Bearer scheme is never taken for a scope refusal.
func FuzzInsufficientScope(f *testing.F) {
	for _, s := range []string{
		`Bearer error="insufficient_scope"`, `Basic realm="x", Bearer error=insufficient_scope`,
		`Bearer realm="a\"b", error="insufficient_scope"`, `Basic abc==`, `"`, `Bearer error="`, `,,, =,=`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		got := insufficientScope(http.Header{"Www-Authenticate": {field}})
		if got && !strings.Contains(strings.ToLower(field), "bearer") {
			t.Fatalf("insufficientScope(%q) without a Bearer scheme", field)
		}
	})
}
