package metadata

import (
	"fmt"

	"github.com/connectkit/connect/internal/syntax"
)

// Endpoint is an endpoint URL split into its parts by [ParseEndpoint]: Scheme ("https", or
// "http" on a loopback address), Host (without brackets or port), Port ("" when the URL gives
// none), Path (as written, escapes kept) and Query (as written, without the "?"), each a
// substring of the parsed URL. It is the URL type of the rules every package of connect
// shares.
type Endpoint = syntax.URL

// MaxEndpointLen is the longest endpoint URL ParseEndpoint accepts.
const MaxEndpointLen = syntax.MaxURLLen

// ParseEndpoint parses and checks an endpoint URL more strictly than net/url: the scheme is
// "https" (or "http" when the host is a loopback address, 127.0.0.0/8 or [::1]); the host is a
// name of lowercase LDH labels, none of them punycode, or a loopback IP address (other IP
// literals are refused); the port, if any, is a number from 1 to 65535; there is no user info
// and no fragment; path and query hold only characters that need no escaping in a URL, and
// every "%" starts a valid escape. Whatever it accepts, net/url parses to the same scheme,
// host, port, path and query. It does not allocate when the URL is valid.
func ParseEndpoint(raw string) (Endpoint, error) {
	u, err := syntax.ParseURL(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("metadata: %w", err)
	}
	return u, nil
}
