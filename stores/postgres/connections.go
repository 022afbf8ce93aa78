package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/connectkit/connect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ConnectionStore is a [connect.ConnectionStore] in PostgreSQL, in the
// connections table of the schema. It is safe for concurrent use, from any
// number of processes.
//
// Put compares and bumps the record's version in one UPDATE, so of several
// replicas that read a record and write it back, one succeeds and the others
// get [connect.ErrConflict] and read it again: no update, such as a rotated
// refresh token, is lost. The unique keys (the id, and the project, provider,
// group ref, consumer ref and workspace) are UNIQUE constraints, so they hold
// across processes too; an update that would give a record the identity of
// another fails with [connect.ErrConflict].
//
// Credentials are kept as bytea exactly as given: they are the Connector's
// ciphertext. Times are kept to the microsecond.
type ConnectionStore struct {
	pool *pgxpool.Pool
	err  error // a configuration error, returned by every method
	q    connectionQueries
}

type connectionQueries struct {
	insert, update, version, get, getAny, list, delete string
}

// connectionColumns are the columns that [scanConnection] reads, in order.
const connectionColumns = `id, project_id, provider, group_ref, group_name, consumer_ref, consumer_name, workspace,
	provider_metadata, provider_app, auth_scheme, status, scopes, create_time, update_time, credentials, version`

// NewConnectionStore returns a store on pool, in the schema the options name.
// Run [Migrate] first. A bad option (a malformed schema name) or a nil pool
// makes every method fail.
func NewConnectionStore(pool *pgxpool.Pool, opts ...Option) *ConnectionStore {
	cfg, err := newConfig(pool, opts)
	if err != nil {
		return &ConnectionStore{err: err}
	}
	t := cfg.connections
	return &ConnectionStore{pool: pool, q: connectionQueries{
		insert: "INSERT INTO " + t + " (" + connectionColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1)`,
		update: "UPDATE " + t + ` SET provider = $3, group_ref = $4, group_name = $5, consumer_ref = $6,
			consumer_name = $7, workspace = $8, provider_metadata = $9, provider_app = $10, auth_scheme = $11,
			status = $12, scopes = $13, create_time = $14, update_time = $15, credentials = $16, version = version + 1
			WHERE id = $1 AND project_id = $2 AND version = $17 RETURNING version`,
		version: "SELECT version FROM " + t + " WHERE id = $1 AND project_id = $2",
		get:     "SELECT " + connectionColumns + " FROM " + t + " WHERE id = $1 AND project_id = $2",
		getAny:  "SELECT " + connectionColumns + " FROM " + t + " WHERE id = $1",
		list:    "SELECT " + connectionColumns + " FROM " + t + " WHERE project_id = $1",
		delete:  "DELETE FROM " + t + " WHERE id = $1 AND project_id = $2",
	}}
}

// Persistent reports true: records outlive the process, so [connect.New]
// requires a keyring with this store. It implements [connect.PersistentStore].
func (s *ConnectionStore) Persistent() bool { return true }

// Put implements [connect.ConnectionStore.Put]. A rec.Version of 0 inserts the
// record; any other version updates it only if the stored record has the same
// project and version.
func (s *ConnectionStore) Put(ctx context.Context, rec *connect.ConnectionRecord) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: put connection: %w", err)
	}
	if s.err != nil {
		return s.err
	}
	if rec == nil || rec.Connection.ID == "" || rec.Connection.ProjectID == "" {
		return errors.New("postgres: put connection: a connection record needs an id and a project")
	}
	c := &rec.Connection
	args, err := connectionArgs(rec)
	if err != nil {
		return fmt.Errorf("postgres: put connection %s: %w", c.ID, err)
	}
	if rec.Version == 0 {
		if _, err := s.pool.Exec(ctx, s.q.insert, args...); err != nil {
			return s.putError(c.ID, err)
		}
		rec.Version = 1
		return nil
	}
	var version int64
	err = s.pool.QueryRow(ctx, s.q.update, append(args, rec.Version)...).Scan(&version)
	switch {
	case err == nil:
		rec.Version = version
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return s.putError(c.ID, err)
	}
	// Nothing was updated: say why.
	err = s.pool.QueryRow(ctx, s.q.version, c.ID, c.ProjectID).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: put connection %s: %w", c.ID, connect.ErrConnectionNotFound)
	case err != nil:
		return fmt.Errorf("postgres: put connection %s: %w", c.ID, dbError(err))
	}
	return fmt.Errorf("postgres: put connection %s: %w: it is at version %d, not %d", c.ID, connect.ErrConflict, version, rec.Version)
}

// putError maps a unique violation to [connect.ErrConflict].
func (s *ConnectionStore) putError(id string, err error) error {
	constraint, ok := uniqueViolation(err)
	switch {
	case ok && constraint == "connections_pkey":
		return fmt.Errorf("postgres: put connection %s: %w: the id exists", id, connect.ErrConflict)
	case ok:
		return fmt.Errorf("postgres: put connection %s: %w: the consumer already has this connection", id, connect.ErrConflict)
	}
	return fmt.Errorf("postgres: put connection %s: %w", id, dbError(err))
}

// connectionArgs returns the parameters $1 to $16 of the insert and update
// queries.
func connectionArgs(rec *connect.ConnectionRecord) ([]any, error) {
	c := &rec.Connection
	var meta, app []byte
	var err error
	if len(c.ProviderMetadata) > 0 {
		if meta, err = json.Marshal(c.ProviderMetadata); err != nil {
			return nil, errors.New("cannot encode the provider metadata")
		}
	}
	if c.ProviderApp != nil {
		if app, err = json.Marshal(c.ProviderApp); err != nil {
			return nil, errors.New("cannot encode the provider app")
		}
	}
	var scopes []string
	if len(c.Scopes) > 0 {
		scopes = c.Scopes
	}
	creds := rec.Credentials
	if creds == nil {
		creds = []byte{} // a nil slice would be NULL
	}
	return []any{
		c.ID, c.ProjectID, c.Provider, c.Group.Ref, c.Group.Name, c.Consumer.Ref, c.Consumer.Name,
		c.ProviderWorkspaceRef, meta, app, string(c.AuthScheme), string(c.Status), scopes,
		c.CreateTime, c.UpdateTime, creds,
	}, nil
}

// scanConnection reads a row of [connectionColumns].
func scanConnection(row pgx.Row) (*connect.ConnectionRecord, error) {
	r := &connect.ConnectionRecord{}
	c := &r.Connection
	var meta, app []byte
	var scheme, status string
	err := row.Scan(&c.ID, &c.ProjectID, &c.Provider, &c.Group.Ref, &c.Group.Name, &c.Consumer.Ref, &c.Consumer.Name,
		&c.ProviderWorkspaceRef, &meta, &app, &scheme, &status, &c.Scopes, &c.CreateTime, &c.UpdateTime,
		&r.Credentials, &r.Version)
	if err != nil {
		return nil, err
	}
	c.AuthScheme, c.Status = connect.AuthScheme(scheme), connect.Status(status)
	c.CreateTime, c.UpdateTime = c.CreateTime.UTC(), c.UpdateTime.UTC()
	if meta != nil {
		if err := json.Unmarshal(meta, &c.ProviderMetadata); err != nil {
			return nil, fmt.Errorf("connection %s: the stored provider metadata is malformed", c.ID)
		}
	}
	if app != nil {
		c.ProviderApp = &connect.ConnectionApp{}
		if err := json.Unmarshal(app, c.ProviderApp); err != nil {
			return nil, fmt.Errorf("connection %s: the stored provider app is malformed", c.ID)
		}
	}
	return r, nil
}

// Get implements [connect.ConnectionStore.Get]; an empty projectID looks the
// id up in every project.
func (s *ConnectionStore) Get(ctx context.Context, projectID, id string) (*connect.ConnectionRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: get connection: %w", err)
	}
	if s.err != nil {
		return nil, s.err
	}
	var row pgx.Row
	if projectID == "" {
		row = s.pool.QueryRow(ctx, s.q.getAny, id)
	} else {
		row = s.pool.QueryRow(ctx, s.q.get, id, projectID)
	}
	rec, err := scanConnection(row)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("postgres: get connection %s: %w", id, connect.ErrConnectionNotFound)
	case err != nil:
		return nil, fmt.Errorf("postgres: get connection %s: %w", id, dbError(err))
	}
	return rec, nil
}

// List implements [connect.ConnectionStore.List]: the project's records that
// match f, by creation time and then id (compared byte by byte).
func (s *ConnectionStore) List(ctx context.Context, projectID string, f connect.ConnectionFilter) ([]*connect.ConnectionRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list connections: %w", err)
	}
	if s.err != nil {
		return nil, s.err
	}
	// Only the filters given are in the query, so that each shape gets its own
	// plan and index.
	var q strings.Builder
	q.WriteString(s.q.list)
	args := []any{projectID}
	for _, c := range []struct{ column, value string }{
		{"provider", f.Provider}, {"group_ref", f.GroupRef}, {"consumer_ref", f.ConsumerRef},
	} {
		if c.value != "" {
			args = append(args, c.value)
			q.WriteString(" AND " + c.column + " = $" + strconv.Itoa(len(args)))
		}
	}
	q.WriteString(" ORDER BY create_time, id")
	rows, err := s.pool.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list connections: %w", dbError(err))
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*connect.ConnectionRecord, error) {
		return scanConnection(row)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list connections: %w", dbError(err))
	}
	return recs, nil
}

// Delete implements [connect.ConnectionStore.Delete].
func (s *ConnectionStore) Delete(ctx context.Context, projectID, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: delete connection: %w", err)
	}
	if s.err != nil {
		return s.err
	}
	tag, err := s.pool.Exec(ctx, s.q.delete, id, projectID)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: delete connection %s: %w", id, dbError(err))
	case tag.RowsAffected() == 0:
		return fmt.Errorf("postgres: delete connection %s: %w", id, connect.ErrConnectionNotFound)
	}
	return nil
}
