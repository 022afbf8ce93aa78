package metadata

import "testing"

// TestCharTable holds charTable to the rules it was written from, byte by byte.
func TestCharTable(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		pchar := alnum || c == '-' || c == '.' || c == '_' || c == '~' || c == '!' || c == '$' ||
			c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' ||
			c == '=' || c == ':' || c == '@' || c == '/' // RFC 3986 pchar without "%", and "/"
		want := map[byte]bool{
			pathChar:  pchar || c == ';',
			queryChar: pchar || c == '?',
			ldhChar:   alnum || c == '-',
		}
		for class, in := range want {
			if got := charTable[c]&class != 0; got != in {
				t.Errorf("byte %#02x: in class %d = %t, want %t", c, class, got, in)
			}
		}
	}
}
