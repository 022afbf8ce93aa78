package keyring

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// String returns the primary key id and the ids of all keys, for logs and
// debugging, e.g. "keyring{primary=k2 ids=[k1 k2]}". It never shows key
// bytes.
func (k Keyring) String() string {
	return "keyring{primary=" + k.primary + " ids=[" + strings.Join(k.ids, " ") + "]}"
}

// GoString is [Keyring.String] in Go syntax, for the %#v verb; it too shows
// only key ids.
func (k Keyring) GoString() string {
	var b strings.Builder
	b.WriteString(`keyring.Keyring{primary: `)
	b.WriteString(strconv.Quote(k.primary))
	b.WriteString(`, ids: []string{`)
	for i, id := range k.ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(id))
	}
	b.WriteString(`}}`)
	return b.String()
}

// Format implements [fmt.Formatter] so that every verb and flag prints only
// key ids: %#v prints [Keyring.GoString], %q the quoted [Keyring.String],
// and every other verb [Keyring.String]. Without it, verbs such as %x would
// reach the keyring's fields.
func (k Keyring) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, k.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(k.String()))
	default:
		_, _ = io.WriteString(f, k.String())
	}
}
