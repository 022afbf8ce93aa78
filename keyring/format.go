package keyring

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/connectkit/connect/internal/safefmt"
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
func (k Keyring) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, k, printed{&k}) }

// printed is a keyring as it prints: its String and GoString, which show only key
// ids.
type printed struct{ k *Keyring }

func (i printed) String() string   { return i.k.String() }
func (i printed) GoString() string { return i.k.GoString() }
