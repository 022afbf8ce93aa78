package syntax

import "unicode/utf8"

// The classes of table, one bit each.
const (
	unreserved = 1 << iota // RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~
	hex                    // 0-9 a-f A-F
	ldh                    // a lowercase letter, digit or hyphen, as in a host name's labels
	pathChar               // may stand unescaped in a path: an RFC 3986 pchar or "/"
	queryChar              // may stand unescaped in a query: a pchar, "/" or "?", but not ";"
	nqchar                 // RFC 6749 NQCHAR: %x21 / %x23-5B / %x5D-7E
	errorCode              // the characters of an error code: letters, digits, _ - .
	base64URL              // the base64url alphabet of RFC 4648 §5, without padding
)

// table holds, at the index of each byte, its classes: a constant read with one load a byte.
// TestTable holds it to the rules above, byte by byte.
const table = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x38\x00\x20\x38\x20\x38\x38\x38\x38\x38\x38\x38\xfd\x79\x38\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x38\x28\x20\x38\x20\x30" +
	"\x38\xfb\xfb\xfb\xfb\xfb\xfb\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9\x20\x00\x20\x20\xf9" +
	"\x20\xff\xff\xff\xff\xff\xff\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\xfd\x20\x20\x20\x39\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// all reports whether every byte of s is in class.
func all(s string, class byte) bool {
	for i := 0; i < len(s); i++ {
		if table[s[i]]&class == 0 {
			return false
		}
	}
	return true
}

// Unreserved reports whether c is an RFC 3986 unreserved character: A-Z a-z 0-9 - . _ ~.
func Unreserved(c byte) bool { return table[c]&unreserved != 0 }

// UnreservedString reports whether s has only unreserved characters (see [Unreserved]).
func UnreservedString(s string) bool { return all(s, unreserved) }

// MaxParamName is the longest name [ParamName] accepts.
const MaxParamName = 64

// ParamName reports whether s is a plain query parameter name: 1 to 64 unreserved characters,
// which stand in a URL as they are.
func ParamName(s string) bool { return s != "" && len(s) <= MaxParamName && all(s, unreserved) }

// IsHex reports whether c is a hexadecimal digit, in either case.
func IsHex(c byte) bool { return table[c]&hex != 0 }

// Unhex returns the value of the hexadecimal digit c, and 0 for any other byte.
func Unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// ValidEscapes reports whether every "%" in s starts an escape of two hexadecimal digits.
func ValidEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !IsHex(s[i+1]) || !IsHex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// PathChars reports whether s may stand as a URL path as written: RFC 3986 pchar characters
// and "/", with every "%" starting a valid escape.
func PathChars(s string) bool { return urlChars(s, pathChar) }

// QueryChars reports whether s may stand as a URL query as written: RFC 3986 pchar
// characters, "/" and "?", with every "%" starting a valid escape. A ";" is refused too, since
// some servers split a query on it.
func QueryChars(s string) bool { return urlChars(s, queryChar) }

func urlChars(s string, class byte) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if table[c]&class != 0 {
			continue
		}
		if c != '%' || i+2 >= len(s) || !IsHex(s[i+1]) || !IsHex(s[i+2]) {
			return false
		}
		i += 2
	}
	return true
}

// Visible reports whether s has only visible ASCII characters (%x21-7E), and spaces when
// space is true. It is the rule for values that may reach a header, a log line or a page.
func Visible(s string, space bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			if c == ' ' && space {
				continue
			}
			return false
		}
	}
	return true
}

// Text reports whether s is valid UTF-8 without control characters: no C0 control, DEL, C1
// control, or the line and paragraph separators U+2028 and U+2029, any of which could split
// a header or a log line, or break a script a value is written into.
func Text(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			return false
		}
		i += n
	}
	return true
}

// NQChars reports whether s is 1*NQCHAR of RFC 6749: visible ASCII without '"' and '\'.
// It is the syntax of a scope token, and of an error code less the space RFC 6749 allows in
// one but no registered code has.
func NQChars(s string) bool { return s != "" && all(s, nqchar) }

// ScopeToken reports whether s is one RFC 6749 §3.3 scope token: 1*NQCHAR.
func ScopeToken(s string) bool { return NQChars(s) }

// NQSChar reports whether c is an RFC 6749 NQSCHAR, the class of error_description:
// %x20-21 / %x23-5B / %x5D-7E (visible ASCII and space, without '"' and '\').
func NQSChar(c byte) bool { return c == ' ' || table[c]&nqchar != 0 }

// ErrorCodeChar reports whether c may stand in an OAuth error code as connect keeps it: an
// ASCII letter, digit, "_", "-" or ".". Every registered error code is made of these; anything
// else, such as markup, is replaced before an error reaches a page.
func ErrorCodeChar(c byte) bool { return table[c]&errorCode != 0 }

// ErrorCode reports whether s is a non-empty error code of [ErrorCodeChar] characters.
func ErrorCode(s string) bool { return s != "" && all(s, errorCode) }

// ID reports whether s is a non-empty identifier of the [ErrorCodeChar] class (letters,
// digits, "_", "-" and "."), as key ids are.
func ID(s string) bool { return ErrorCode(s) }

// Base64URL reports whether s is non-empty and has only characters of the base64url alphabet
// (A-Z a-z 0-9 - _), without padding.
func Base64URL(s string) bool { return s != "" && all(s, base64URL) }

// MaxPromptValue is the longest value [PromptValue] accepts.
const MaxPromptValue = 64

// PromptValue reports whether v is one prompt value (OpenID Connect Core §3.1.2.1, which
// allows extensions): a lowercase letter, then up to 63 lowercase letters, digits and "_".
func PromptValue(v string) bool {
	if v == "" || len(v) > MaxPromptValue || v[0] < 'a' || v[0] > 'z' {
		return false
	}
	for i := 1; i < len(v); i++ {
		if c := v[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Ident reports whether s is empty or an identifier of a request (a project, provider or app
// id): ASCII letters, digits and . _ : @ -, starting with a letter or digit.
func Ident(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '_' || c == ':' || c == '@' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
