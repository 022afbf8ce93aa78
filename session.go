package connect

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"
)

// sessionVersion is the first byte of a session record: the version of its format. Version
// 1, without RefreshURL, is still read, so that flows started before an upgrade complete.
const (
	sessionVersion   = 2
	sessionVersionV1 = 1
)

// session is a pending authorization, saved in the state store under the SHA-256 of its state
// token between the authorize URL and the callback. It holds what the callback needs and
// what the request fixed: the callback may not change any of it.
type session struct {
	ProjectID    string
	Provider     string
	GroupRef     string
	GroupName    string
	ConsumerRef  string
	ConsumerName string
	Workspace    string
	Metadata     map[string]string
	AppID        string
	RedirectURI  string
	TokenURL     string
	RefreshURL   string // "" when refreshes go to TokenURL
	Scopes       []string
	Verifier     string
	BindingHash  []byte
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// marshal encodes the session compactly: the version byte, then each field in order, strings
// and byte slices as a uvarint length and the bytes, lists and maps as a uvarint count and
// their items (map keys sorted), times as varint Unix nanoseconds.
func (s *session) marshal() []byte { return s.appendTo(nil) }

// appendTo appends the encoded session to b.
func (s *session) appendTo(b []byte) []byte {
	n := len(b) + 1 + 2*binary.MaxVarintLen64 + 17*binary.MaxVarintLen32 + len(s.BindingHash) + len(s.RefreshURL)
	for _, f := range s.strings() {
		n += len(*f)
	}
	for k, v := range s.Metadata {
		n += len(k) + len(v) + 2*binary.MaxVarintLen32
	}
	for _, sc := range s.Scopes {
		n += len(sc) + binary.MaxVarintLen32
	}
	b = slices.Grow(b, n-len(b))
	b = append(b, sessionVersion)
	for _, f := range s.strings() {
		b = appendString(b, *f)
	}
	b = appendStringMap(b, s.Metadata)
	b = appendStrings(b, s.Scopes)
	b = binary.AppendUvarint(b, uint64(len(s.BindingHash)))
	b = append(b, s.BindingHash...)
	b = binary.AppendVarint(b, s.CreatedAt.UnixNano())
	b = binary.AppendVarint(b, s.ExpiresAt.UnixNano())
	return appendString(b, s.RefreshURL)
}

// strings lists the string fields in their encoded order.
func (s *session) strings() [11]*string {
	return [11]*string{
		&s.ProjectID, &s.Provider, &s.GroupRef, &s.GroupName, &s.ConsumerRef, &s.ConsumerName,
		&s.Workspace, &s.AppID, &s.RedirectURI, &s.TokenURL, &s.Verifier,
	}
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendStringMap writes a count and the key, value pairs in key order.
func appendStringMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	if len(m) == 0 {
		return b
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendString(b, k)
		b = appendString(b, m[k])
	}
	return b
}

// appendStrings writes a count and the strings.
func appendStrings(b []byte, list []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, s := range list {
		b = appendString(b, s)
	}
	return b
}

// unmarshalSession decodes a session record, refusing a format it does not know, a
// truncated record and trailing bytes.
func unmarshalSession(b []byte) (*session, error) {
	if len(b) == 0 || (b[0] != sessionVersion && b[0] != sessionVersionV1) {
		return nil, fmt.Errorf("%w: unknown version", errSessionRecord)
	}
	// One string holds the record; the fields are substrings of it.
	d := decoder{b: string(b[1:])}
	var s session
	for _, f := range s.strings() {
		*f = d.string()
	}
	s.Metadata = d.stringMap()
	s.Scopes = d.strings()
	if h := d.string(); len(h) > 0 {
		s.BindingHash = []byte(h)
	}
	s.CreatedAt = d.time()
	s.ExpiresAt = d.time()
	if b[0] == sessionVersion {
		s.RefreshURL = d.string()
	}
	if d.err || len(d.b) != 0 {
		return nil, errSessionRecord
	}
	return &s, nil
}

// decoder reads a session record; after the first error every read returns a zero value.
type decoder struct {
	b   string
	err bool
}

func (d *decoder) fail() { d.err, d.b = true, "" }

func (d *decoder) uvarint() uint64 {
	var v uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflows 64 bits
			}
			d.b = d.b[i+1:]
			return v | uint64(c)<<(7*i)
		}
		v |= uint64(c&0x7f) << (7 * i)
	}
	d.fail()
	return 0
}

// count reads a list length, which can be no more than the bytes left.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count()
	if d.err {
		return ""
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// stringMap reads a count and as many key, value pairs; nil for none.
func (d *decoder) stringMap() map[string]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.string()
		m[k] = d.string()
	}
	return m
}

// strings reads a count and as many strings; nil for none.
func (d *decoder) strings() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.string()
	}
	return out
}

// zeroTime reads a time written by appendTime, whose 0 is the zero time.
func (d *decoder) zeroTime() time.Time {
	if t := d.time(); !t.Equal(time.Unix(0, 0)) {
		return t
	}
	return time.Time{}
}

func (d *decoder) time() time.Time {
	u := d.uvarint()
	if d.err {
		return time.Time{}
	}
	// Varint (zig-zag) encoding, as binary.AppendVarint writes it.
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return time.Unix(0, v).UTC()
}
