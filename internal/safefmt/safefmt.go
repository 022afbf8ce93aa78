// Package safefmt holds the one rule by which the types that hold secrets print themselves.
//
// fmt formats a struct's fields itself for the verbs the struct does not handle, and when a
// verb does not suit a field (%s, %x or %d on a pointer) it prints the pointed-to value with
// every method switched off, a [fmt.Formatter] that redacts a secret included. So a type
// that holds a secret, directly or behind a pointer, handles every verb itself, through
// [Format], and never lets fmt reach its fields with a verb of the caller's choosing.
package safefmt

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format writes v for any verb and flag as fields prints under %v: fields is v with its
// secrets out of reach, typically v converted to a type without methods whose fields each
// redact themselves, or a type whose String and GoString show no secret.
//
// %#v writes fields in Go syntax, under v's type name; '+' adds the field names; %q quotes
// the text; a width pads it (on the right with '-'). Every other verb writes the %v text,
// since a verb such as %x or %d would make fmt print pointed-to fields raw.
func Format(f fmt.State, verb rune, v, fields any) {
	var s string
	switch {
	case verb == 'v' && f.Flag('#'):
		s = fmt.Sprintf("%#v", fields)
		// fields' own type name would name a conversion the reader never wrote.
		if name := fmt.Sprintf("%T", fields); strings.HasPrefix(s, name+"{") {
			s = fmt.Sprintf("%T", v) + s[len(name):]
		}
	case f.Flag('+'):
		s = fmt.Sprintf("%+v", fields)
	default:
		s = fmt.Sprint(fields)
	}
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	if w, ok := f.Width(); ok && w > utf8.RuneCountInString(s) {
		pad := strings.Repeat(" ", w-utf8.RuneCountInString(s))
		if f.Flag('-') {
			s += pad
		} else {
			s = pad + s
		}
	}
	_, _ = io.WriteString(f, s)
}
