package connecthttp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connectkit/connect/internal/syntax"
)

// DefaultMaxBodyBytes is the cap on a request body when [WithMaxBodyBytes] is not given.
const DefaultMaxBodyBytes = 64 << 10

// Option configures the handler that [New] returns.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is what the options set; New checks it.
type config struct {
	endings     []string // the names of the ending options given, in order
	redirects   bool
	successURL  string
	failureURL  string
	popup       bool
	popupOrigin string
	maxBody     int64
	log         *slog.Logger
	now         func() time.Time
	hubOwner    func(r *http.Request, hubID string) (groupRef, consumerRef string, err error)
}

// KeyFunc authenticates an API request: it returns the one project the X-Api-Key value may act
// for, and ok false when the key is unknown. It must compare keys in constant time, as
// [StaticKeys] does, and must not log them.
type KeyFunc func(ctx context.Context, apiKey string) (projectID string, ok bool)

// StaticKeys returns a [KeyFunc] over a fixed map from API key to project id, which it
// copies. Every presented key is compared with every configured key, through their SHA-256
// digests with crypto/subtle.ConstantTimeCompare and without an early exit, so that the time
// taken tells nothing about the keys. An empty key or project id is an error, which never
// shows a key.
func StaticKeys(keys map[string]string) (KeyFunc, error) {
	type entry struct {
		digest  [sha256.Size]byte
		project string
	}
	entries := make([]entry, 0, len(keys))
	for k, p := range keys {
		if k == "" || p == "" {
			return nil, errors.New("connecthttp: StaticKeys: an API key and its project id must not be empty")
		}
		entries = append(entries, entry{sha256.Sum256([]byte(k)), p})
	}
	return func(_ context.Context, apiKey string) (string, bool) {
		d := sha256.Sum256([]byte(apiKey))
		found := -1
		for i := range entries {
			eq := subtle.ConstantTimeCompare(d[:], entries[i].digest[:])
			found = subtle.ConstantTimeSelect(eq, i, found)
		}
		if found < 0 {
			return "", false
		}
		return entries[found].project, true
	}, nil
}

// WithRedirects ends the callback with a 303 redirect: to successURL with
// ?connectionId=<id>&provider=<name> added, or to failureURL with ?error=<code> added, where
// the code is one of the fixed set documented on the package. Nothing of the provider's
// redirect (code, state, error descriptions) is ever passed on.
//
// Each URL must be an absolute https URL (plain http only on 127.0.0.1 or [::1]) with a
// lowercase ASCII host, no user info and no fragment, or a path that starts with a single
// "/". Neither may contain control characters, backslashes or percent-escapes of them, nor
// already carry the parameters connect adds. [New] returns an error naming WithRedirects for a
// URL that breaks these rules. Only one of WithRedirects and [WithPopup] may be given, once.
func WithRedirects(successURL, failureURL string) Option {
	return optionFunc(func(c *config) {
		c.endings = append(c.endings, "WithRedirects")
		c.redirects, c.successURL, c.failureURL = true, successURL, failureURL
	})
}

// WithPopup ends the callback with a small HTML page for a flow run in a popup window: its
// script, allowed by a Content-Security-Policy hash and nothing else, posts
// {type: "connect:result", ok, connectionId, provider, error} to window.opener with
// openerOrigin as the target origin, and closes the window. openerOrigin must be an origin,
// scheme://host[:port] and nothing more (https, or http on 127.0.0.1 or [::1]); [New]
// returns an error naming WithPopup otherwise. Only one of [WithRedirects] and WithPopup may
// be given, once.
func WithPopup(openerOrigin string) Option {
	return optionFunc(func(c *config) {
		c.endings = append(c.endings, "WithPopup")
		c.popup, c.popupOrigin = true, openerOrigin
	})
}

// WithMaxBodyBytes caps request bodies at n bytes; a larger body is answered 413. The default
// is [DefaultMaxBodyBytes]. [New] returns an error naming WithMaxBodyBytes if n is not
// positive.
func WithMaxBodyBytes(n int64) Option { return optionFunc(func(c *config) { c.maxBody = n }) }

// WithLogger sets the logger of the handler; the default (or nil) discards. Records never carry a
// secret, an authorization code, a state token or an API key.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.log = l }) }

// WithClock sets the clock used for the binding cookie's lifetime; the default (or nil) is
// time.Now.
func WithClock(now func() time.Time) Option { return optionFunc(func(c *config) { c.now = now }) }

// WithHubOwner sets how the hub_id of Versori's oauth2/initialise route maps to the
// connection's group and consumer. The default (or nil) uses the hub id as both. An error that
// matches connect.ErrInvalidRequest is answered 400 naming hub_id, one that matches
// connect.ErrStoreUnavailable 503, and any other 403: the hub is not the caller's.
func WithHubOwner(f func(r *http.Request, hubID string) (groupRef, consumerRef string, err error)) Option {
	return optionFunc(func(c *config) { c.hubOwner = f })
}

// check returns what is wrong with the configuration.
func (c *config) check() error {
	var errs []error
	if len(c.endings) > 1 {
		errs = append(errs, fmt.Errorf("%s: give one of WithRedirects and WithPopup, once", strings.Join(c.endings, " and ")))
	}
	if c.redirects {
		if err := checkReturnURL(c.successURL); err != nil {
			errs = append(errs, fmt.Errorf("WithRedirects success URL: %w", err))
		}
		if err := checkReturnURL(c.failureURL); err != nil {
			errs = append(errs, fmt.Errorf("WithRedirects failure URL: %w", err))
		}
	}
	if c.popup {
		if err := checkOrigin(c.popupOrigin); err != nil {
			errs = append(errs, fmt.Errorf("WithPopup origin: %w", err))
		}
	}
	if c.maxBody <= 0 {
		errs = append(errs, errors.New("WithMaxBodyBytes must be positive"))
	}
	return errors.Join(errs...)
}

// checkReturnURL checks a success or failure URL (docs/security.md, C3).
func checkReturnURL(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if strings.Contains(s, "#") {
		return errors.New("must not have a fragment")
	}
	if !safeChars(s) {
		return errors.New("has control characters, spaces, backslashes or non-ASCII characters")
	}
	if strings.HasPrefix(s, "/") {
		if strings.HasPrefix(s, "//") {
			return errors.New("a path must start with a single /")
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
			return errors.New("is not a path")
		}
		if err := checkPathQuery(u); err != nil {
			return err
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("does not parse")
	}
	if err := checkAbsolute(u); err != nil {
		return err
	}
	return checkPathQuery(u)
}

// checkAbsolute checks the scheme, user info, host and port of an absolute URL by the rules
// every package of connect shares: https, or http on 127.0.0.1 or [::1]; a host of
// lowercase LDH labels, none of them punycode, or a loopback address.
func checkAbsolute(u *url.URL) error {
	if u.Opaque != "" || u.Host == "" {
		return errors.New("must be an absolute URL with a host, or a path starting with /")
	}
	return syntax.CheckURL(u)
}

// checkPathQuery checks the path, query and fragment of a parsed return URL.
func checkPathQuery(u *url.URL) error {
	p, err := url.PathUnescape(u.EscapedPath())
	if err != nil || !safeChars(p) {
		return errors.New("the path must not escape control characters, spaces or backslashes")
	}
	if strings.HasPrefix(p, "//") {
		return errors.New("the path must not start with //")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return errors.New("the query does not parse")
	}
	for k, vs := range q {
		for _, v := range append(vs, k) {
			if !safeChars(v) {
				return errors.New("the query must not escape control characters, spaces or backslashes")
			}
		}
		switch k {
		case "connectionId", "provider", "error":
			return fmt.Errorf("must not carry the %s parameter, which connect adds", k)
		}
	}
	return nil
}

// checkOrigin checks a postMessage target origin: scheme://host[:port].
func checkOrigin(s string) error {
	if s == "" || !safeChars(s) {
		return errors.New("must be scheme://host[:port] in ASCII")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("does not parse")
	}
	if err := checkAbsolute(u); err != nil {
		return err
	}
	if u.Path != "" || u.RawPath != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(s, "?#") {
		return errors.New("must be an origin, scheme://host[:port], without a path, query or fragment")
	}
	if u.Scheme+"://"+u.Host != s {
		return errors.New("must be an origin, scheme://host[:port]")
	}
	return nil
}

// safeChars reports whether s is printable ASCII without spaces and backslashes.
func safeChars(s string) bool { return syntax.Visible(s, false) && !strings.Contains(s, "\\") }
