package connect

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// The stored records, pending sessions in the state store and credentials sealed in a
// ConnectionRecord, are JSON: {"v": the version of their format, "data": their fields} (see
// record). Times are RFC 3339 with nanoseconds (time.Time's JSON), secrets plain strings:
// the whole record is the secret, kept under the SHA-256 of its state token or encrypted.
//
// Versions 1 and 2 were binary records beginning with their version byte. They are still
// read, so that what was stored before an upgrade is not lost, and never written.
const (
	sessionVersion     = 3
	credentialsVersion = 3
)

// session is a pending authorization, saved in the state store under the SHA-256 of its state
// token between the authorize URL and the callback. It holds what the callback needs and
// what the request fixed: the callback may not change any of it.
type session struct {
	ProjectID    string            `json:"projectId,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	GroupRef     string            `json:"groupRef,omitempty"`
	GroupName    string            `json:"groupName,omitempty"`
	ConsumerRef  string            `json:"consumerRef,omitempty"`
	ConsumerName string            `json:"consumerName,omitempty"`
	Workspace    string            `json:"workspace,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	AppID        string            `json:"appId,omitempty"`
	RedirectURI  string            `json:"redirectUri,omitempty"`
	TokenURL     string            `json:"tokenUrl,omitempty"`
	RefreshURL   string            `json:"refreshUrl,omitempty"` // "" when refreshes go to TokenURL
	Scopes       []string          `json:"scopes,omitempty"`
	Verifier     string            `json:"verifier,omitempty"`
	BindingHash  []byte            `json:"bindingHash,omitempty"`
	CreatedAt    time.Time         `json:"createdAt"`
	ExpiresAt    time.Time         `json:"expiresAt"`
}

// Format prints no field under any verb: a session holds the PKCE verifier.
func (session) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "connect.session{…}") }

// LogValue keeps the session's fields out of logs, as Format keeps them out of fmt.
func (session) LogValue() slog.Value { return slog.StringValue("connect.session{…}") }

// marshal encodes the session as a record of the current version.
func (s *session) marshal() ([]byte, error) {
	return encodeRecord("the pending authorization", sessionVersion, s)
}

// unmarshalSession decodes a session record of any version.
func unmarshalSession(b []byte) (*session, error) {
	return decodeRecord(b, sessionVersion, legacySession, errSessionRecord)
}

// record is the stored form of a T: {"v": version, "data": {the fields of T}}.
type record[T any] struct {
	V    int `json:"v"`
	Data *T  `json:"data"`
}

// encodeRecord encodes v as a record of the version; what names it in an error.
func encodeRecord[T any](what string, version int, v *T) ([]byte, error) {
	err := checkUTF8(reflect.ValueOf(v).Elem())
	var b []byte
	if err == nil {
		b, err = json.Marshal(record[T]{V: version, Data: v})
	}
	if err != nil {
		return nil, fmt.Errorf("connect: encoding %s: %w", what, err)
	}
	return b, nil
}

// isJSONRecord tells a JSON record, which begins with '{', from a binary one of versions 1
// and 2, which begins with its version byte.
func isJSONRecord(b []byte) bool { return len(b) > 0 && b[0] == '{' }

// checkUTF8 returns an error naming the first string of the struct v, in a field, a list or
// a map, that is not UTF-8. JSON holds only Unicode text: encoding/json would replace the
// other bytes, and a record must give back what it was given.
func checkUTF8(v reflect.Value) error {
	for i := range v.NumField() {
		ok := true
		switch f := v.Field(i); {
		case f.Kind() == reflect.String:
			ok = utf8.ValidString(f.String())
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			for j := 0; j < f.Len() && ok; j++ {
				ok = utf8.ValidString(f.Index(j).String())
			}
		case f.Kind() == reflect.Map && f.Type().Elem().Kind() == reflect.String:
			for it := f.MapRange(); ok && it.Next(); {
				ok = utf8.ValidString(it.Key().String()) && utf8.ValidString(it.Value().String())
			}
		}
		if !ok {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			return fmt.Errorf("%s is not UTF-8 text", name)
		}
	}
	return nil
}

// decodeRecord decodes a record of any version: a JSON record of the version, or a binary
// one of versions 1 and 2 through legacy. A record of another version, such as one a newer
// release wrote, is refused whole, never read by the rules of this one; so is a record without
// its data, with a member T does not have, or with anything after it. Every error matches kind.
func decodeRecord[T any](b []byte, version int, legacy func([]byte) (*T, error), kind error) (*T, error) {
	if !isJSONRecord(b) {
		return legacy(b)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var r record[T]
	err := d.Decode(&r)
	if err == nil && r.V == version && r.Data != nil && len(bytes.TrimSpace(b[d.InputOffset():])) == 0 {
		return r.Data, nil
	}
	// The record is not one of this version: say why, the version first, since another
	// version's fields are unknown to this one.
	var head struct {
		V int `json:"v"`
	}
	switch {
	case json.Unmarshal(b, &head) != nil:
		// Not json's message, which could quote a byte of the record.
		return nil, fmt.Errorf("%w: not JSON", kind)
	case head.V != version:
		return nil, fmt.Errorf("%w: format version %d is unknown to this release", kind, head.V)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", kind, err)
	}
	return nil, fmt.Errorf("%w: no data", kind)
}

// Legacy binary records: read-only compatibility with versions 1 and 2, written before the
// JSON records. Nothing writes this format any more; do not extend it.
//
// A record is its version byte, then each field in order: strings as a uvarint length and
// the bytes, lists and maps as a uvarint count and their items, times as zig-zag varint Unix
// nanoseconds.
const (
	legacyV1 = 1
	legacyV2 = 2
)

// legacySession reads a binary session record. Version 1 has no RefreshURL.
func legacySession(b []byte) (*session, error) {
	if len(b) == 0 || (b[0] != legacyV2 && b[0] != legacyV1) {
		return nil, fmt.Errorf("%w: unknown version", errSessionRecord)
	}
	d := decoder{b: string(b[1:])}
	var s session
	for _, f := range [...]*string{
		&s.ProjectID, &s.Provider, &s.GroupRef, &s.GroupName, &s.ConsumerRef, &s.ConsumerName,
		&s.Workspace, &s.AppID, &s.RedirectURI, &s.TokenURL, &s.Verifier,
	} {
		*f = d.string()
	}
	s.Metadata = d.stringMap()
	s.Scopes = d.strings()
	if h := d.string(); len(h) > 0 {
		s.BindingHash = []byte(h)
	}
	s.CreatedAt = d.time()
	s.ExpiresAt = d.time()
	if b[0] == legacyV2 {
		s.RefreshURL = d.string()
	}
	if d.err || len(d.b) != 0 {
		return nil, errSessionRecord
	}
	return &s, nil
}

// decoder reads a legacy binary record; after the first error every read returns a zero
// value.
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

// zeroTime reads a time whose 0 stands for the zero time.
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
