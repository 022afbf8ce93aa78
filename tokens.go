package connect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// TokenSource returns a token source for the connection with the id: its Token method
// returns the stored access token while it is valid, and otherwise refreshes it through
// golang.org/x/oauth2 at the token endpoint fixed when the connection was made (or, for
// client credentials, fetches a new one), saves the new token, and returns it. One refresh
// per connection is in flight at a time, in one Connector and across replicas sharing the
// connection store: the replica that refreshes holds a lease on the connection (taken with
// the store's compare-and-swap), and the others wait for its token rather than spend the
// same refresh token. A rotated refresh token is saved before the new access token is
// returned; a response without one keeps the old one. On invalid_grant the connection is
// marked bad_credentials and the error matches [ErrBadCredentials].
//
// ctx bounds how long each Token call waits. A refresh, once started, does not depend on it:
// it runs to its end on a context of its own, bounded by [RefreshTimeout], and saves what it
// got, so that a caller who gives up (Token then returns an error matching ctx.Err()) never
// loses a rotated refresh token, nor fails the other callers waiting for the same refresh.
// That context keeps the values of the ctx of the caller that started the refresh, for the
// stores, the token endpoint and [Config].OnEvent.
//
// Token returns the same *oauth2.Token to every caller while it is valid, without copying
// it, as [oauth2.ReuseTokenSource] does: callers must not modify it.
//
// Once the connection is deleted, Token returns an error matching [ErrConnectionNotFound]:
// at once when it was deleted through this Connector, and otherwise when the store is next
// read, which is at the next refresh and at least every [TokenRecheckInterval].
//
// Connection ids are unique across projects; code acting for one project uses
// [Connector.TokenSourceFor].
func (c *Connector) TokenSource(ctx context.Context, connectionID string) (oauth2.TokenSource, error) {
	if err := checkConnectionID(connectionID); err != nil {
		return nil, invalid("id", err.Error(), nil)
	}
	return c.tokenSource(ctx, "", connectionID)
}

// TokenSourceFor is [Connector.TokenSource] for a connection of the given project: the
// connection of another project is not found, so a handler acting for a project can never
// hand out another project's tokens.
func (c *Connector) TokenSourceFor(ctx context.Context, projectID, connectionID string) (oauth2.TokenSource, error) {
	if err := checkIDs(projectID, connectionID); err != nil {
		return nil, err
	}
	return c.tokenSource(ctx, projectID, connectionID)
}

// tokenSource checks the connection, in the project if one is given, and makes its source.
// A connection never changes project, so the check holds for the source's life.
func (c *Connector) tokenSource(ctx context.Context, projectID, connectionID string) (oauth2.TokenSource, error) {
	sctx, cancel := c.storeContext(ctx)
	rec, err := c.connections.Get(sctx, projectID, connectionID)
	cancel()
	if err != nil {
		return nil, storeError(err)
	}
	if !rec.Connection.AuthScheme.isOAuth2() {
		return nil, ErrNotOAuth
	}
	return &tokenSource{c: c, ctx: ctx, id: connectionID}, nil
}

const (
	// RefreshTimeout bounds the token request of a refresh, which runs to its end even when
	// every caller has stopped waiting. Before the request, waiting for another replica's
	// refresh takes at most one lease (30 seconds) and a margin; after it, saving the token
	// the provider issued gets the store timeout on each try.
	RefreshTimeout = refreshLease - refreshMargin
	// TokenRecheckInterval is how long a token source hands out a valid token without
	// reading the store again, which is how it learns that another replica deleted the
	// connection or refreshed its token.
	TokenRecheckInterval = time.Minute
)

// deletions counts the connections deleted through a Connector. A token source hands out
// its cached token only while the count is the one it saw when it last read the store: a
// deletion makes every source read the store once more, which tells the deleted one. A
// counter rather than a set of ids keeps the hot path to one atomic load, and nothing grows
// with the deletions.
type deletions struct{ n atomic.Uint64 }

// tokenSource is a connection's oauth2.TokenSource. It keeps the last token it handed out
// and reads the store only when that one is no longer to be handed out.
type tokenSource struct {
	c    *Connector
	ctx  context.Context
	id   string
	last atomic.Pointer[cachedToken]
}

// current is a connection's token as read or refreshed, with when it was obtained when its
// expiry is unknown and it can be refreshed (see [Connector.fresh]).
type current struct {
	tok      *oauth2.Token
	obtained time.Time
}

// cachedToken is a token source's last token and until when it may be handed out without
// reading the store: before it is due for a refresh, before a recheck is due, and while no
// connection has been deleted since the store was read (deletions is then still gen).
type cachedToken struct {
	tok   *oauth2.Token
	until time.Time
	gen   uint64
}

// Token returns the connection's token; see [Connector.TokenSource].
func (ts *tokenSource) Token() (*oauth2.Token, error) { return ts.token(ts.ctx) }

// token is Token, waiting at most as long as ctx for a refresh.
func (ts *tokenSource) token(ctx context.Context) (*oauth2.Token, error) {
	if last := ts.last.Load(); last != nil && last.gen == ts.c.deletions.n.Load() && ts.c.now().Before(last.until) {
		return last.tok, nil
	}
	return ts.read(ctx, "")
}

// read gets the connection's token from the store, refreshing it if needed, and caches it. A
// token whose access token is stale is refreshed whatever its expiry: a forced refresh. The
// refresh runs detached from ctx (see [Connector.TokenSource]), shared by every caller that
// asks for the connection's token meanwhile; ctx only bounds the wait.
func (ts *tokenSource) read(ctx context.Context, stale string) (*oauth2.Token, error) {
	got, err := ts.c.sharedToken(ctx, ts.id, stale)
	if err != nil {
		return nil, err
	}
	if got.gen != ts.c.deletions.n.Load() {
		// A connection was deleted while this token was read, perhaps before this caller
		// asked for it: make sure it was not this one.
		recheck := *got
		recheck.gen = ts.c.deletions.n.Load()
		sctx, cancel := ts.c.storeContext(ctx)
		_, err := ts.c.connections.Get(sctx, "", ts.id)
		cancel()
		if err != nil {
			return nil, storeError(err)
		}
		got = &recheck
	}
	ts.last.Store(got)
	return got.tok, nil
}

// sharedToken returns the connection's token, other than stale when stale is set, through
// the one refresh in flight for the connection in this Connector: a caller that finds a
// refresh running waits for its token, and starts its own only if that token is the stale
// one.
func (c *Connector) sharedToken(ctx context.Context, id, stale string) (*cachedToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("connect: waiting for the token: %w", err)
	}
	detached := context.WithoutCancel(ctx)
	for range 2 {
		ch := c.refreshes.DoChan(id, func() (any, error) {
			// The counter is read before the store, so that a deletion meanwhile shows.
			gen, read := c.deletions.n.Load(), c.now()
			cur, err := c.token(detached, id, stale)
			if err != nil {
				return nil, err
			}
			return &cachedToken{tok: cur.tok, gen: gen, until: minTime(c.refreshAt(cur), read.Add(TokenRecheckInterval))}, nil
		})
		var res singleflight.Result
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect: waiting for the token: %w", ctx.Err())
		case res = <-ch:
		}
		if res.Err != nil {
			return nil, res.Err
		}
		if got := res.Val.(*cachedToken); stale == "" || got.tok.AccessToken != stale {
			return got, nil
		}
	}
	return nil, fmt.Errorf("connect: the token could not be refreshed: %w", ErrConflict)
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// fresh reports whether a token may still be handed out rather than refreshed: it is not due,
// and it is not the stale one a forced refresh replaces.
func (c *Connector) fresh(cur *current, stale string) bool {
	return c.now().Before(c.refreshAt(cur)) && (stale == "" || cur.tok.AccessToken != stale)
}

// refreshAt is when a token is to be refreshed: the expiry delta before its expiry. A token
// whose expiry is unknown counts as valid for an hour after it was obtained, or for ever
// when it cannot be refreshed (obtained is then zero); one without an access token is due
// at once.
func (c *Connector) refreshAt(cur *current) time.Time {
	if cur.tok.AccessToken == "" {
		return time.Time{}
	}
	exp := cur.tok.Expiry
	if exp.IsZero() {
		if cur.obtained.IsZero() {
			return neverRefresh
		}
		exp = cur.obtained.Add(unknownExpiryAge)
	}
	return exp.Add(-c.expiryDelta)
}

// neverRefresh is the refresh time of a token that lasts as long as it may.
var neverRefresh = time.Unix(1<<62, 0)

// The refresh lease: one replica at a time refreshes a connection. The others wait for its
// token, polling the store, instead of spending the same refresh token, which a provider
// that rotates refresh tokens would refuse, and one that detects reuse would answer by
// revoking the whole grant. The lease lives in the sealed credentials and is taken with the
// store's compare-and-swap, so it needs nothing of a store beyond [ConnectionStore].
const (
	// refreshLease is how long a claim lasts: a replica that dies while refreshing holds
	// the others up at most this long.
	refreshLease = 30 * time.Second
	// refreshMargin is cut from the lease for the refresh request itself, so that it ends
	// before another replica may claim the lease.
	refreshMargin = 5 * time.Second
	// leasePollMin and leasePollMax bound the waiting replicas' polling interval.
	leasePollMin = 20 * time.Millisecond
	leasePollMax = 250 * time.Millisecond
	// maxLeaseAttempts bounds the claims lost to concurrent updates.
	maxLeaseAttempts = 64
)

// token returns the connection's current token, refreshing and saving it when needed. ctx
// is never cancelled by a caller (see [tokenSource.read]): each step has its own bound.
func (c *Connector) token(ctx context.Context, id, stale string) (*current, error) {
	wctx, cancel := context.WithTimeout(ctx, refreshLease+refreshMargin)
	rec, cr, cur, err := c.claim(wctx, id, stale)
	cancel()
	if err != nil || cur != nil {
		return cur, err
	}
	usedRefreshToken := cr.RefreshToken
	rctx, cancel := context.WithTimeout(ctx, RefreshTimeout)
	tok, err := c.refresh(rctx, rec, cr)
	cancel()
	if err != nil {
		if tok != nil && tok.RefreshToken != "" && tok.RefreshToken != usedRefreshToken {
			rec, err = c.keepRotated(ctx, rec, cr, usedRefreshToken, tok.RefreshToken, err)
			return nil, c.refreshFailed(ctx, rec, usedRefreshToken, err)
		}
		rec = c.releaseLease(ctx, rec, cr)
		// Had the lease run out, another replica may have refreshed with the same refresh
		// token first, and the provider, rotating, refused ours: then its token is the
		// connection's.
		if rec2, cr2, lerr := c.loadCredentials(ctx, id); lerr == nil && cr2.RefreshToken != usedRefreshToken {
			if cur := c.currentToken(rec2, cr2); c.fresh(cur, stale) {
				return cur, nil
			}
		}
		return nil, c.refreshFailed(ctx, rec, usedRefreshToken, err)
	}
	return c.saveRefreshed(ctx, rec, cr, usedRefreshToken, tok)
}

// claim reads the connection and returns its token if it is fresh; otherwise it takes the
// refresh lease, waiting while another replica holds it, and returns the record and
// credentials to refresh.
func (c *Connector) claim(ctx context.Context, id, stale string) (*ConnectionRecord, *credentials, *current, error) {
	rec, cr, err := c.loadCredentials(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	poll, claims := leasePollMin, 0
	for {
		if cur := c.currentToken(rec, cr); c.fresh(cur, stale) {
			return nil, nil, cur, nil
		}
		if rec.Connection.Status == StatusBadCredentials {
			return nil, nil, nil, ErrBadCredentials
		}
		if cr.RefreshToken == "" && rec.Connection.AuthScheme != AuthSchemeOAuth2ClientCredentials {
			return nil, nil, nil, fmt.Errorf("%w: the access token expired and there is no refresh token", ErrBadCredentials)
		}
		now := c.now()
		if cr.LeaseOwner != "" && cr.LeaseOwner != c.instance && now.Before(cr.LeaseUntil) {
			// Another replica is refreshing: wait for its token.
			t := time.NewTimer(poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, nil, nil, fmt.Errorf("connect: waiting for another replica's refresh: %w", ctx.Err())
			case <-t.C:
			}
			poll = min(2*poll, leasePollMax)
		} else {
			cr.LeaseOwner, cr.LeaseUntil = c.instance, now.Add(refreshLease)
			err := c.putCredentials(ctx, rec, cr)
			if err == nil {
				return rec, cr, nil, nil
			}
			if claims++; !errors.Is(err, ErrConflict) || claims == maxLeaseAttempts {
				return nil, nil, nil, err
			}
		}
		if rec, cr, err = c.loadCredentials(ctx, id); err != nil {
			return nil, nil, nil, err
		}
	}
}

// saveRefreshed saves a token the provider issued, with its rotated refresh token, and
// returns it, or the newer token another refresh saved meanwhile.
func (c *Connector) saveRefreshed(ctx context.Context, rec *ConnectionRecord, cr *credentials, usedRefreshToken string, tok *oauth2.Token) (*current, error) {
	now := c.now()
	var err error
	wait := saveRetryMin
	for conflicts := 0; conflicts < maxPutAttempts; {
		if tok.RefreshToken != "" {
			cr.RefreshToken = tok.RefreshToken // rotated: saved before the token is handed out
		}
		cr.AccessToken, cr.TokenType, cr.Expiry, cr.ObtainedAt = tok.AccessToken, tok.TokenType, c.expiry(tok), now
		cr.LeaseOwner, cr.LeaseUntil = "", time.Time{}
		rec.Connection.Status = StatusWorking
		rec.Connection.UpdateTime = now
		err = c.putCredentials(ctx, rec, cr)
		if err == nil {
			c.emit(ctx, EventConnectionRefreshed, rec.Connection.ProjectID, rec.Connection.Provider, &rec.Connection, nil)
			return c.currentToken(rec, cr), nil
		}
		if errors.Is(err, ErrStoreUnavailable) && wait <= saveRetryMax {
			// The provider has spent the refresh token we sent: the one it issued is the
			// connection's only way back, so a store that failed is asked again.
			if !sleep(ctx, wait) {
				break
			}
			wait *= 2
			continue
		}
		if !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("saving the refreshed token: %w", err)
		}
		conflicts++
		// The record changed since it was read (the connection was updated meanwhile, or
		// the lease ran out and another replica refreshed). If another refresh saved a
		// newer token, use that one; otherwise put this token onto the newest record, so
		// that a rotated refresh token is never lost.
		if rec, cr, err = c.loadCredentials(ctx, rec.Connection.ID); err != nil {
			return nil, err
		}
		if cur := c.currentToken(rec, cr); cr.RefreshToken != usedRefreshToken && c.fresh(cur, "") {
			return cur, nil
		}
	}
	if errors.Is(err, ErrConflict) {
		return nil, fmt.Errorf("%w: saving the refreshed token kept losing to concurrent updates", ErrConflict)
	}
	return nil, fmt.Errorf("saving the refreshed token: %w", err)
}

// The waits between tries to save a refreshed token while the store fails: doubling from
// saveRetryMin up to saveRetryMax, about 13 s in all.
const (
	saveRetryMin = 100 * time.Millisecond
	saveRetryMax = 6400 * time.Millisecond
)

// sleep waits for d, and reports false if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// keepRotated saves the refresh token a provider rotated in an answer that was refused
// (refreshErr), releasing the lease, so that the next refresh sends the token the provider
// now expects rather than the spent one. It returns the record as saved and refreshErr, joined
// with the reason when the rotated token could not be saved.
func (c *Connector) keepRotated(ctx context.Context, rec *ConnectionRecord, cr *credentials, usedRefreshToken, rotated string, refreshErr error) (*ConnectionRecord, error) {
	var err error
	for range maxPutAttempts {
		cr.RefreshToken = rotated
		cr.LeaseOwner, cr.LeaseUntil = "", time.Time{}
		if err = c.putCredentials(ctx, rec, cr); err == nil {
			return rec, refreshErr
		}
		if !errors.Is(err, ErrConflict) {
			break
		}
		var latest *ConnectionRecord
		if latest, cr, err = c.loadCredentials(ctx, rec.Connection.ID); err != nil {
			break
		}
		rec = latest
		if cr.RefreshToken != usedRefreshToken {
			return rec, refreshErr // another refresh saved a newer token meanwhile
		}
	}
	return rec, errors.Join(refreshErr, fmt.Errorf("saving the rotated refresh token: %w", err))
}

// putCredentials seals cr into rec and saves rec, comparing versions. The error matches
// ErrConflict when the record changed since it was read, ErrConnectionNotFound when it is
// gone, and ErrStoreUnavailable when the store failed.
func (c *Connector) putCredentials(ctx context.Context, rec *ConnectionRecord, cr *credentials) error {
	sealed, err := seal(c.keys, &rec.Connection, cr)
	if err != nil {
		return err
	}
	rec.Credentials = sealed
	sctx, cancel := c.storeContext(ctx)
	err = c.connections.Put(sctx, rec)
	cancel()
	if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrConnectionNotFound) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// releaseLease gives up this Connector's refresh lease after a failed refresh, so that the
// waiting replicas need not wait for it to run out. It returns the record as saved, or as it
// was when the release lost a race (the lease then runs out on its own).
func (c *Connector) releaseLease(ctx context.Context, rec *ConnectionRecord, cr *credentials) *ConnectionRecord {
	released := rec.Clone()
	lease := *cr
	lease.LeaseOwner, lease.LeaseUntil = "", time.Time{}
	if c.putCredentials(ctx, released, &lease) != nil {
		return rec
	}
	return released
}

// currentToken is the token of the credentials, with when it was obtained when it can be
// refreshed: a token that cannot be is used as long as it may last.
func (c *Connector) currentToken(rec *ConnectionRecord, cr *credentials) *current {
	cur := &current{tok: cr.token()}
	if cr.RefreshToken != "" || rec.Connection.AuthScheme == AuthSchemeOAuth2ClientCredentials {
		cur.obtained = cr.ObtainedAt
	}
	return cur
}

// loadCredentials reads a connection's record and opens its credentials.
func (c *Connector) loadCredentials(ctx context.Context, id string) (*ConnectionRecord, *credentials, error) {
	sctx, cancel := c.storeContext(ctx)
	rec, err := c.connections.Get(sctx, "", id)
	cancel()
	if err != nil {
		return nil, nil, storeError(err)
	}
	cr, err := open(c.keys, rec)
	if err != nil {
		return nil, nil, err
	}
	return rec, cr, nil
}

// refresh gets a new token from the provider.
func (c *Connector) refresh(ctx context.Context, rec *ConnectionRecord, cr *credentials) (*oauth2.Token, error) {
	p, ok := c.providers.Lookup(rec.Connection.Provider)
	if !ok {
		return nil, fmt.Errorf("connect: provider %s is no longer registered", rec.Connection.Provider)
	}
	if rec.Connection.AuthScheme == AuthSchemeOAuth2ClientCredentials {
		return c.clientCredentialsToken(ctx, p, cr)
	}
	clientID, secret, err := c.oauthClient(ctx, rec, cr)
	if err != nil {
		return nil, err
	}
	cfg := oauth2.Config{
		ClientID: clientID, ClientSecret: secret,
		Endpoint: oauth2.Endpoint{TokenURL: cmp.Or(cr.RefreshURL, cr.TokenURL), AuthStyle: authStyle(p)},
	}
	old := cr.token()
	old.Expiry = time.Unix(1, 0) // make x/oauth2 refresh
	tok, err := cfg.TokenSource(c.clientContext(ctx, p), old).Token()
	if err != nil {
		return nil, tokenError(err, old.RefreshToken, old.AccessToken, secret)
	}
	if err := checkToken(tok); err != nil {
		// The provider may have spent the refresh token we sent and rotated it in the
		// answer we refuse: the new one is all the connection has left.
		return &oauth2.Token{RefreshToken: tok.RefreshToken}, err
	}
	return tok, nil
}

// oauthClient returns the OAuth client a connection authenticates as at the token endpoint:
// its own, for client credentials and password grants, else its provider app's.
func (c *Connector) oauthClient(ctx context.Context, rec *ConnectionRecord, cr *credentials) (id, secret string, err error) {
	if rec.Connection.ProviderApp == nil || cr.ClientID != "" {
		return cr.ClientID, cr.ClientSecret, nil
	}
	sctx, cancel := c.storeContext(ctx)
	app, err := c.apps.App(sctx, rec.Connection.ProjectID, rec.Connection.Provider, rec.Connection.ProviderApp.ID)
	cancel()
	if err != nil {
		return "", "", fmt.Errorf("%w: looking up the provider app: %w", ErrStoreUnavailable, err)
	}
	return app.ClientID, app.ClientSecret.Reveal(), nil
}

// refreshFailed marks the connection bad_credentials when the provider refused the refresh
// token for good (unless another refresh has meanwhile saved a new one), and reports the
// failure.
func (c *Connector) refreshFailed(ctx context.Context, rec *ConnectionRecord, usedRefreshToken string, err error) error {
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Code == "invalid_grant" {
		err = fmt.Errorf("%w: %w", ErrBadCredentials, err)
		for range maxPutAttempts {
			rec.Connection.Status = StatusBadCredentials
			rec.Connection.UpdateTime = c.now()
			sctx, cancel := c.storeContext(ctx)
			perr := c.connections.Put(sctx, rec)
			cancel()
			if !errors.Is(perr, ErrConflict) {
				if perr != nil {
					err = errors.Join(err, fmt.Errorf("%w: marking the connection: %w", ErrStoreUnavailable, perr))
				}
				break
			}
			var cr *credentials
			if rec, cr, perr = c.loadCredentials(ctx, rec.Connection.ID); perr != nil {
				return errors.Join(err, perr)
			}
			if cr.RefreshToken != usedRefreshToken {
				return err // another refresh saved a new token: the connection works
			}
		}
	}
	c.emit(ctx, EventConnectionError, rec.Connection.ProjectID, rec.Connection.Provider, &rec.Connection, err)
	return err
}
