package syntax

import (
	"strings"
	"testing"
)

// TestTable holds table to the rules it was written from, byte by byte.
func TestTable(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		alpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		digit := '0' <= c && c <= '9'
		unres := alpha || digit || c == '-' || c == '.' || c == '_' || c == '~'
		subDelim := c != 0 && strings.IndexByte("!$&'()*+,;=", c) >= 0
		pchar := unres || subDelim || c == ':' || c == '@' // RFC 3986 §3.3, without "%"
		want := map[byte]bool{
			unreserved: unres,
			hex:        digit || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F',
			ldh:        'a' <= c && c <= 'z' || digit || c == '-',
			pathChar:   pchar || c == '/',
			queryChar:  (pchar || c == '/' || c == '?') && c != ';',
			nqchar:     c >= 0x21 && c <= 0x7e && c != '"' && c != '\\',
			errorCode:  alpha || digit || c == '_' || c == '-' || c == '.',
			base64URL:  alpha || digit || c == '-' || c == '_',
		}
		for class, in := range want {
			if got := table[c]&class != 0; got != in {
				t.Errorf("byte %#02x: in class %#02x = %t, want %t", c, class, got, in)
			}
		}
	}
}

func TestUnhex(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		var want byte
		switch {
		case '0' <= c && c <= '9':
			want = c - '0'
		case 'a' <= c && c <= 'f':
			want = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			want = c - 'A' + 10
		}
		if got := Unhex(c); got != want {
			t.Errorf("Unhex(%#02x) = %d, want %d", c, got, want)
		}
	}
}

func TestStringClasses(t *testing.T) {
	tests := []struct {
		name string
		f    func(string) bool
		in   string
		want bool
	}{
		{"unreserved all", UnreservedString, "AZaz09-._~", true},
		{"unreserved empty", UnreservedString, "", true},
		{"unreserved slash", UnreservedString, "a/b", false},
		{"unreserved percent", UnreservedString, "a%20", false},
		{"param name", ParamName, "access_type.v-1~", true},
		{"param name 64", ParamName, strings.Repeat("a", 64), true},
		{"param name 65", ParamName, strings.Repeat("a", 65), false},
		{"param name empty", ParamName, "", false},
		{"param name space", ParamName, "a b", false},
		{"param name bracket", ParamName, "a[]", false},
		{"escapes valid", ValidEscapes, "a%2Fb%c3%A9", true},
		{"escapes none", ValidEscapes, "plain", true},
		{"escapes short", ValidEscapes, "a%2", false},
		{"escapes at end", ValidEscapes, "a%", false},
		{"escapes not hex", ValidEscapes, "%zz", false},
		{"path chars", PathChars, "/a/b;c=d:@!$&'()*+,~%2F", true},
		{"path question", PathChars, "/a?b", false},
		{"path space", PathChars, "/a b", false},
		{"path bad escape", PathChars, "/a%g0", false},
		{"path backslash", PathChars, `/a\b`, false},
		{"query chars", QueryChars, "a=b&c=d/e?f%20", true},
		{"query semicolon", QueryChars, "a=b;c=d", false},
		{"query hash", QueryChars, "a=b#c", false},
		{"query non-ASCII", QueryChars, "a=é", false},
		{"scope token", ScopeToken, "https://x.example/read!#$", true},
		{"scope empty", ScopeToken, "", false},
		{"scope space", ScopeToken, "read write", false},
		{"scope quote", ScopeToken, `a"b`, false},
		{"scope backslash", ScopeToken, `a\b`, false},
		{"scope DEL", ScopeToken, "a\x7f", false},
		{"scope openid", ScopeToken, "openid", true},
		{"scope colon", ScopeToken, "read:user", true},
		{"scope URL", ScopeToken, "https://www.googleapis.com/auth/drive", true},
		{"scope brackets", ScopeToken, "!#[]~", true},
		{"scope tab", ScopeToken, "a\tb", false},
		{"scope non-ASCII", ScopeToken, "caf\u00e9", false},
		{"nqchars", NQChars, "invalid_request!#[]", true},
		{"nqchars empty", NQChars, "", false},
		{"nqchars space", NQChars, "invalid request", false},
		{"nqchars quote", NQChars, `a"b`, false},
		{"prompt value", PromptValue, "select_account", true},
		{"prompt value digits", PromptValue, "consent2", true},
		{"prompt value 64", PromptValue, "a" + strings.Repeat("b", 63), true},
		{"prompt value 65", PromptValue, "a" + strings.Repeat("b", 64), false},
		{"prompt value empty", PromptValue, "", false},
		{"prompt value leading digit", PromptValue, "2fa", false},
		{"prompt value leading underscore", PromptValue, "_x", false},
		{"prompt value upper", PromptValue, "Consent", false},
		{"prompt value space", PromptValue, "consent login", false},
		{"prompt value plus", PromptValue, "consent+login", false},
		{"ident", Ident, "proj-1.a_b:c@d", true},
		{"ident empty", Ident, "", true},
		{"ident leading dash", Ident, "-a", false},
		{"ident leading dot", Ident, ".a", false},
		{"ident slash", Ident, "a/b", false},
		{"ident space", Ident, "a b", false},
		{"ident non-ASCII", Ident, "é", false},
		{"error code", ErrorCode, "invalid_grant.v2-x", true},
		{"error code empty", ErrorCode, "", false},
		{"error code markup", ErrorCode, "<b>x</b>", false},
		{"error code space", ErrorCode, "invalid grant", false},
		{"id", ID, "key-2024.v_1", true},
		{"id empty", ID, "", false},
		{"id tilde", ID, "a~b", false},
		{"id slash", ID, "a/b", false},
		{"base64url", Base64URL, "AZaz09-_", true},
		{"base64url empty", Base64URL, "", false},
		{"base64url padding", Base64URL, "YQ==", false},
		{"base64url std alphabet", Base64URL, "a+b/", false},
		{"text", Text, "Zürich, São Paulo", true},
		{"text empty", Text, "", true},
		{"text newline", Text, "a\nb", false},
		{"text DEL", Text, "a\x7f", false},
		{"text C1", Text, "a\u0085b", false},
		{"text line separator", Text, "a\u2028b", false},
		{"text paragraph separator", Text, "a\u2029b", false},
		{"text invalid UTF-8", Text, "a\xffb", false},
		{"text truncated UTF-8", Text, "a\xc3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.in); got != tt.want {
				t.Errorf("(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		space bool
		want  bool
	}{
		{"visible", "!~azAZ09", false, true},
		{"empty", "", false, true},
		{"space refused", "a b", false, false},
		{"space allowed", "a b", true, true},
		{"tab", "a\tb", true, false},
		{"DEL", "a\x7f", true, false},
		{"non-ASCII", "é", true, false},
		{"NUL", "\x00", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Visible(tt.in, tt.space); got != tt.want {
				t.Errorf("Visible(%q, %t) = %t, want %t", tt.in, tt.space, got, tt.want)
			}
		})
	}
}

func TestNQSChar(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		want := c == 0x20 || c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e
		if got := NQSChar(c); got != want {
			t.Errorf("NQSChar(%#02x) = %t, want %t", c, got, want)
		}
	}
}

func TestByteClasses(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		if got, want := Unreserved(c), table[c]&unreserved != 0; got != want {
			t.Errorf("Unreserved(%#02x) = %t, want %t", c, got, want)
		}
		if got, want := IsHex(c), table[c]&hex != 0; got != want {
			t.Errorf("IsHex(%#02x) = %t, want %t", c, got, want)
		}
		if got, want := ErrorCodeChar(c), table[c]&errorCode != 0; got != want {
			t.Errorf("ErrorCodeChar(%#02x) = %t, want %t", c, got, want)
		}
	}
}
