package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppStore is a [connect.AppStore] in PostgreSQL, in the apps table of the
// schema, keyed by project and app id. It is safe for concurrent use.
//
// Client secrets are sealed with the store's keyring, bound to the app's
// project, id and provider, so the client_secret column holds only ciphertext,
// and a secret copied into another app's row does not open there.
type AppStore struct {
	pool *pgxpool.Pool
	keys *keyring.Keyring
	q    appQueries
}

type appQueries struct {
	put, byID, byProvider, delete string
}

// NewAppStore returns a store on pool, in the schema the options name, that
// seals client secrets with keys. Run [Migrate] first. It fails if keys is
// nil (the store never keeps a secret in plaintext), if pool is nil or if an
// option is bad.
func NewAppStore(pool *pgxpool.Pool, keys *keyring.Keyring, opts ...Option) (*AppStore, error) {
	cfg, err := newConfig(pool, opts)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, errors.New("postgres: an app store needs a keyring: client secrets are never stored unencrypted")
	}
	t := cfg.apps
	const columns = "id, provider, client_id, client_secret, scopes, is_default"
	return &AppStore{pool: pool, keys: keys, q: appQueries{
		put: "INSERT INTO " + t + ` (project_id, id, provider, client_id, client_secret, scopes, is_default)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (project_id, id) DO UPDATE SET provider = excluded.provider, client_id = excluded.client_id,
			client_secret = excluded.client_secret, scopes = excluded.scopes, is_default = excluded.is_default`,
		byID:       "SELECT " + columns + " FROM " + t + " WHERE project_id = $1 AND provider = $2 AND id = $3",
		byProvider: "SELECT " + columns + " FROM " + t + " WHERE project_id = $1 AND provider = $2 ORDER BY id",
		delete:     "DELETE FROM " + t + " WHERE project_id = $1 AND id = $2",
	}}, nil
}

// secretAAD binds a sealed client secret to its app: a length-prefixed
// encoding of the project id, the app id and the provider.
func secretAAD(projectID, id, provider string) []byte {
	return fmt.Appendf(nil, "connect/postgres/app-client-secret/v1|%d:%s|%d:%s|%d:%s",
		len(projectID), projectID, len(id), id, len(provider), provider)
}

// Put checks app with [connect.ProviderApp.Validate] and stores it, replacing
// the app with the same project and id. The client secret is sealed first.
func (s *AppStore) Put(ctx context.Context, app connect.ProviderApp) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: put app: %w", err)
	}
	if err := app.Validate(); err != nil {
		return fmt.Errorf("postgres: put app: %w", err)
	}
	secret, err := s.keys.Seal([]byte(app.ClientSecret.Reveal()), secretAAD(app.ProjectID, app.ID, app.Provider))
	if err != nil {
		return fmt.Errorf("postgres: put app %s: %w", app.ID, err)
	}
	var scopes []string
	if len(app.Scopes) > 0 {
		scopes = app.Scopes
	}
	_, err = s.pool.Exec(ctx, s.q.put, app.ProjectID, app.ID, app.Provider, app.ClientID, secret, scopes, app.Default)
	if err != nil {
		return fmt.Errorf("postgres: put app %s: %w", app.ID, dbError(err))
	}
	return nil
}

// Delete removes the app with id in the project, or returns an error matching
// [connect.ErrAppNotFound].
func (s *AppStore) Delete(ctx context.Context, projectID, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: delete app: %w", err)
	}
	tag, err := s.pool.Exec(ctx, s.q.delete, projectID, id)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: delete app %s: %w", id, dbError(err))
	case tag.RowsAffected() == 0:
		return fmt.Errorf("postgres: delete app: %w: no app %s in project %s", connect.ErrAppNotFound, id, projectID)
	}
	return nil
}

// storedApp is a row of the apps table, its secret still sealed.
type storedApp struct {
	connect.ProviderApp
	sealed []byte
}

func scanApp(projectID string) pgx.RowToFunc[storedApp] {
	return func(row pgx.CollectableRow) (storedApp, error) {
		a := storedApp{ProviderApp: connect.ProviderApp{ProjectID: projectID}}
		err := row.Scan(&a.ID, &a.Provider, &a.ClientID, &a.sealed, &a.Scopes, &a.Default)
		return a, err
	}
}

// App implements [connect.AppStore.App], choosing as [connect.MemoryAppStore]
// does: the app with appID, else the project's only app for the provider, else
// the one marked Default. An app whose secret does not open (a wrong keyring,
// or a secret moved from another row) gives an error that does not match
// [connect.ErrAppNotFound].
func (s *AppStore) App(ctx context.Context, projectID, provider, appID string) (*connect.ProviderApp, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: app: %w", err)
	}
	var rows pgx.Rows
	var err error
	if appID != "" {
		rows, err = s.pool.Query(ctx, s.q.byID, projectID, provider, appID)
	} else {
		rows, err = s.pool.Query(ctx, s.q.byProvider, projectID, provider)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: app: %w", dbError(err))
	}
	apps, err := pgx.CollectRows(rows, scanApp(projectID))
	if err != nil {
		return nil, fmt.Errorf("postgres: app: %w", dbError(err))
	}
	var found *storedApp
	n, defaults := len(apps), 0
	for i := range apps {
		if apps[i].Default {
			defaults++
			if defaults == 1 {
				found = &apps[i]
			}
		}
	}
	switch {
	case appID != "" && n == 0:
		return nil, fmt.Errorf("postgres: %w: no app %s for provider %s in project %s", connect.ErrAppNotFound, appID, provider, projectID)
	case n == 1:
		found = &apps[0]
	case n == 0:
		return nil, fmt.Errorf("postgres: %w: project %s has no app for provider %s", connect.ErrAppNotFound, projectID, provider)
	case defaults != 1:
		return nil, fmt.Errorf("postgres: %w: project %s has %d apps for provider %s and %d marked default; name one with providerAppId",
			connect.ErrAppNotFound, projectID, n, provider, defaults)
	}
	return s.open(found)
}

// open decrypts the app's client secret and checks the app as Put did.
func (s *AppStore) open(a *storedApp) (*connect.ProviderApp, error) {
	secret, err := s.keys.Open(a.sealed, secretAAD(a.ProjectID, a.ID, a.Provider))
	if err != nil {
		return nil, fmt.Errorf("postgres: provider app %s: the client secret does not open: %w", a.ID, err)
	}
	app := a.ProviderApp
	app.ClientSecret = connect.Secret(secret)
	if err := app.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: provider app %s: %w", app.ID, err)
	}
	return &app, nil
}
