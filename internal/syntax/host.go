package syntax

import (
	"net/netip"
	"strings"
)

// Limits on host names, from RFC 1035 §2.3.4.
const (
	MaxLabel    = 63
	MaxHostName = 253
)

// Label reports whether s is one host name label: 1 to 63 lowercase ASCII letters, digits and
// inner hyphens, and not a punycode A-label ("xn--").
func Label(s string) bool {
	if len(s) == 0 || len(s) > MaxLabel || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	if strings.HasPrefix(s, "xn--") {
		return false
	}
	return all(s, ldh)
}

// HostName reports whether s is a host name as the package doc defines it: labels of [Label]
// joined by dots, at most 253 octets, the last one not all digits.
func HostName(s string) bool {
	if len(s) > MaxHostName {
		return false
	}
	last := s
	for {
		i := strings.IndexByte(last, '.')
		if i < 0 {
			break
		}
		if !Label(last[:i]) {
			return false
		}
		last = last[i+1:]
	}
	return Label(last) && !digits(last)
}

// digits reports whether s has only ASCII digits.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsLoopback reports whether host, as [net/url.URL.Hostname] returns it (without brackets or
// port), is a loopback IP address: 127.0.0.0/8 in dotted-decimal form, or ::1. The name
// "localhost" is not one.
func IsLoopback(host string) bool {
	if host == "::1" {
		return true
	}
	if !strings.HasPrefix(host, "127.") {
		return false
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Is4() && addr.IsLoopback()
}

// Host reports whether h may be the host of a URL connect calls or sends a browser to: a
// [HostName] or a loopback address ([IsLoopback]). Other IP literals are refused.
func Host(h string) bool { return HostName(h) || IsLoopback(h) }

// Port reports whether s is a port number from 1 to 65535, without leading zeros.
func Port(s string) bool {
	if s == "" || len(s) > 5 || s[0] == '0' || !digits(s) {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}
