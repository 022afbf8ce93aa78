package metadata

import (
	"errors"
	"net/netip"
	"strings"
)

// Endpoint is an endpoint URL split into its parts by [ParseEndpoint]. Its fields are
// substrings of the parsed URL.
type Endpoint struct {
	Scheme string // "https", or "http" on a loopback address
	Host   string // the host name or IP address, without brackets or port
	Port   string // "" when the URL gives none
	Path   string // as written, escapes kept
	Query  string // as written, without the "?"
}

// Errors of ParseEndpoint.
var (
	errEndpointScheme   = errors.New("metadata: URL must be absolute https (plain http only on loopback)")
	errEndpointHost     = errors.New("metadata: URL must have a host name of DNS labels, or a loopback address")
	errEndpointUser     = errors.New("metadata: URL must not carry user info")
	errEndpointFragment = errors.New("metadata: URL must not carry a fragment")
	errEndpointChars    = errors.New("metadata: URL has a character that must be escaped, or a malformed escape")
	errEndpointPort     = errors.New("metadata: URL port must be a number from 1 to 65535")
	errEndpointLength   = errors.New("metadata: URL is longer than 2048 octets")
)

// MaxEndpointLen is the longest endpoint URL ParseEndpoint accepts.
const MaxEndpointLen = 2048

// ParseEndpoint parses and checks an endpoint URL more strictly than net/url: the scheme is
// "https" (or "http" when the host is a loopback address such as 127.0.0.1 or [::1]); the host
// is a name of LDH labels or a loopback IP address (other IP literals are refused); the port,
// if any, is a number from 1 to 65535; there is no user info and no fragment; path and query
// hold only characters that need no escaping in a URL, and every "%" starts a valid escape.
// Whatever it accepts, net/url parses to the same scheme, host, port, path and query.
// It does not allocate.
func ParseEndpoint(raw string) (Endpoint, error) {
	var e Endpoint
	if len(raw) > MaxEndpointLen {
		return e, errEndpointLength
	}
	rest, ok := strings.CutPrefix(raw, "https://")
	e.Scheme = "https"
	if !ok {
		if rest, ok = strings.CutPrefix(raw, "http://"); !ok {
			return e, errEndpointScheme
		}
		e.Scheme = "http"
	}
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	authority := rest[:end]
	rest = rest[end:]
	if strings.IndexByte(authority, '@') >= 0 {
		return e, errEndpointUser
	}
	if strings.HasPrefix(authority, "[") {
		i := strings.IndexByte(authority, ']')
		if i < 0 {
			return e, errEndpointHost
		}
		e.Host = authority[1:i]
		// A copy: ParseAddr keeps a zone, which would make raw escape on every call.
		addr, err := netip.ParseAddr(strings.Clone(e.Host))
		if err != nil || !addr.Is6() || addr.Zone() != "" || !addr.IsLoopback() {
			return e, errEndpointHost
		}
		if after := authority[i+1:]; after != "" {
			p, ok := strings.CutPrefix(after, ":")
			if !ok || !validPort(p) {
				return e, errEndpointPort
			}
			e.Port = p
		}
	} else {
		h, p, hasPort := strings.Cut(authority, ":")
		if !endpointHost(h) {
			return e, errEndpointHost
		}
		e.Host = h
		if hasPort {
			if !validPort(p) {
				return e, errEndpointPort
			}
			e.Port = p
		}
	}
	if e.Scheme == "http" && !IsLoopback(strings.Clone(e.Host)) { // a copy, as above
		return e, errEndpointScheme
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		e.Path, e.Query = rest[:i], rest[i+1:]
	} else {
		e.Path = rest
	}
	if strings.IndexByte(rest, '#') >= 0 {
		return e, errEndpointFragment
	}
	if !urlChars(e.Path, false) || !urlChars(e.Query, true) {
		return e, errEndpointChars
	}
	return e, nil
}

// dottedNumbers reports whether h holds only digits and dots.
func dottedNumbers(h string) bool {
	for i := 0; i < len(h); i++ {
		if c := h[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// endpointHost reports whether h is a host name of LDH labels (any case) or an IPv4 loopback
// address.
func endpointHost(h string) bool {
	if h == "" || len(h) > maxHostname {
		return false
	}
	if dottedNumbers(h) {
		// Dotted numbers: only an IPv4 loopback address; others (e.g. 127.1) are read as
		// addresses by some resolvers.
		addr, err := netip.ParseAddr(strings.Clone(h)) // a copy, so that h does not escape
		return err == nil && addr.Is4() && addr.IsLoopback()
	}
	start := 0 // of the current label
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			if charTable[h[i]]&ldhChar != 0 {
				continue
			}
			return false
		}
		if n := i - start; n == 0 || n > maxLabel || h[start] == '-' || h[i-1] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535 && p[0] != '0'
}

// urlChars reports whether s holds only RFC 3986 pchar characters, "/" (and "?" in a query),
// with every "%" starting a valid escape. A query may not hold ";" either, which some servers
// treat as a separator.
func urlChars(s string, query bool) bool {
	want := byte(pathChar)
	if query {
		want = queryChar
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if charTable[c]&want != 0 {
			continue
		}
		if c != '%' || i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
			return false
		}
		i += 2
	}
	return true
}

// The classes of charTable.
const (
	pathChar  = 1 << iota // may stand unescaped in a path: a pchar or "/"
	queryChar             // may stand unescaped in a query: a pchar, "/" or "?", but not ";"
	ldhChar               // a letter, digit or hyphen, as in a host name's labels
)

// charTable holds, at the index of each byte, its classes: a constant, one load a byte where
// a switch of ranges took several compares. "%" is in none; urlChars checks its escape.
const charTable = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x03\x00\x00\x03\x00\x03\x03\x03\x03\x03\x03\x03\x07\x03\x03\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x03\x01\x00\x03\x00\x02" +
	"\x03\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x00\x00\x00\x00\x03" +
	"\x00\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x00\x00\x00\x03\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
