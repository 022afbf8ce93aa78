package metadata

import (
	"fmt"
	"strings"

	"github.com/connectkit/connect/internal/syntax"
)

// Hosts lists the hosts a provider's URLs may point at. An entry is a host name such as
// login.salesforce.com, a loopback IP address, or a pattern such as *.my.salesforce.com whose
// leading "*" stands for exactly one DNS label. Matching is of the whole host, never of a
// suffix alone.
type Hosts []string

// Check reports the first entry that is not a valid host or pattern.
func (h Hosts) Check() error {
	for _, p := range h {
		name := strings.TrimPrefix(p, "*.")
		if !syntax.HostName(name) && !(syntax.IsLoopback(name) && name == p) {
			return fmt.Errorf("metadata: allowed host %q must be a lowercase host name, optionally with a leading * label", p)
		}
	}
	return nil
}

// Match reports whether host fully matches one of the entries. Host names compare without
// regard to ASCII case.
func (h Hosts) Match(host string) bool {
	for _, p := range h {
		if matchHost(p, host) {
			return true
		}
	}
	return false
}

// matchHost folds ASCII case only: strings.EqualFold and strings.ToLower would also match
// non-ASCII letters such as the Kelvin sign (U+212A) with "k".
func matchHost(pattern, host string) bool {
	pattern, host = lowerASCII(pattern), lowerASCII(host)
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		if len(host) <= len(suffix) || host[len(host)-len(suffix):] != suffix {
			return false
		}
		return syntax.Label(host[:len(host)-len(suffix)])
	}
	return pattern == host
}
