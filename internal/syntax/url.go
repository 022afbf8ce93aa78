package syntax

import (
	"net/url"
	"strings"
)

// MaxURLLen is the longest URL [ParseURL] accepts.
const MaxURLLen = 2048

// URL is a URL split into its parts by [ParseURL]. Its fields are substrings of the parsed URL.
type URL struct {
	Scheme string // "https", or "http" on a loopback address
	Host   string // the host name or IP address, without brackets or port
	Port   string // "" when the URL gives none
	Path   string // as written, escapes kept
	Query  string // as written, without the "?"
}

// SecureScheme reports whether a URL of scheme may reach host: https always, plain http only
// on a loopback address.
func SecureScheme(scheme, host string) bool {
	return scheme == "https" || scheme == "http" && IsLoopback(host)
}

// ParseURL parses and checks an endpoint or redirect URL more strictly than net/url: the
// scheme is https, or http on a loopback address ([SecureScheme]); the host is a [Host]; the
// port, if any, is a [Port]; there is no user info and no fragment; path and query hold only
// characters that need no escaping ([PathChars], [QueryChars]). Whatever it accepts, net/url
// parses to the same scheme, host, port, path and query. It does not allocate.
func ParseURL(raw string) (URL, error) {
	var u URL
	if len(raw) > MaxURLLen {
		return u, ErrURLLength
	}
	rest, ok := strings.CutPrefix(raw, "https://")
	u.Scheme = "https"
	if !ok {
		if rest, ok = strings.CutPrefix(raw, "http://"); !ok {
			return u, ErrURLScheme
		}
		u.Scheme = "http"
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]
	if strings.IndexByte(authority, '@') >= 0 {
		return u, ErrURLUser
	}
	var err error
	if u.Host, u.Port, err = splitAuthority(authority); err != nil {
		return u, err
	}
	if !SecureScheme(u.Scheme, u.Host) {
		return u, ErrURLScheme
	}
	if strings.IndexByte(rest, '#') >= 0 {
		return u, ErrURLFragment
	}
	u.Path, u.Query, _ = strings.Cut(rest, "?")
	if !PathChars(u.Path) || !QueryChars(u.Query) {
		return u, ErrURLChars
	}
	return u, nil
}

// splitAuthority splits host[:port] or [v6]:port and checks both parts.
func splitAuthority(a string) (host, port string, err error) {
	var after string
	if v6, ok := strings.CutPrefix(a, "["); ok {
		var closed bool
		if host, after, closed = strings.Cut(v6, "]"); !closed || host != "::1" {
			return "", "", ErrURLHost
		}
	} else {
		host, after = a, ""
		if i := strings.IndexByte(a, ':'); i >= 0 {
			host, after = a[:i], a[i:]
		}
		if !Host(host) {
			return "", "", ErrURLHost
		}
	}
	if after != "" {
		var ok bool
		if port, ok = strings.CutPrefix(after, ":"); !ok || !Port(port) {
			return "", "", ErrURLPort
		}
	}
	return host, port, nil
}

// CheckURL applies the rules of [ParseURL] to a URL net/url has parsed: the scheme, the host,
// the port, no user info and no fragment. The path and query are left to the caller, since
// net/url has decoded them.
func CheckURL(u *url.URL) error {
	switch {
	case u.Scheme != "https" && u.Scheme != "http", u.Opaque != "":
		return ErrURLScheme
	case u.User != nil:
		return ErrURLUser
	case u.Fragment != "" || u.RawFragment != "":
		return ErrURLFragment
	}
	host, _, err := splitAuthority(u.Host)
	if err != nil {
		return err
	}
	if !SecureScheme(u.Scheme, host) {
		return ErrURLScheme
	}
	return nil
}

// DotSegment reports whether path has a segment a server may resolve against its neighbours:
// "." or "..", written plainly or percent-encoded, or an encoded "/" or a "\", which some
// servers read as a separator. A path with one could lead a request off the path it was
// declared on.
func DotSegment(path string) bool {
	lower := strings.ToLower(path)
	if strings.Contains(path, `\`) || strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return true
	}
	for seg := range strings.SplitSeq(path, "/") {
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
