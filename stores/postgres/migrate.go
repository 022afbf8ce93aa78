package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migration is one versioned change of the schema. Its SQL names the schema as
// {schema}, replaced by the quoted schema name.
type migration struct {
	version int
	sql     string
}

// migrations returns the migrations in the order they are applied; a version,
// once released, never changes.
func migrations() []migration {
	return []migration{
		{1, `
CREATE TABLE {schema}.connections (
	id                text COLLATE "C" PRIMARY KEY,
	project_id        text NOT NULL,
	provider          text NOT NULL,
	group_ref         text NOT NULL,
	group_name        text NOT NULL,
	consumer_ref      text NOT NULL,
	consumer_name     text NOT NULL,
	workspace         text NOT NULL,
	provider_metadata jsonb,
	provider_app      jsonb,
	auth_scheme       text NOT NULL,
	status            text NOT NULL,
	scopes            text[],
	create_time       timestamptz NOT NULL,
	update_time       timestamptz NOT NULL,
	credentials       bytea NOT NULL,
	version           bigint NOT NULL,
	CONSTRAINT connections_identity_key UNIQUE (project_id, provider, group_ref, consumer_ref, workspace)
);
CREATE INDEX connections_project_idx ON {schema}.connections (project_id, create_time, id);
CREATE INDEX connections_owner_idx ON {schema}.connections (project_id, group_ref, consumer_ref, create_time, id);
COMMENT ON COLUMN {schema}.connections.credentials IS 'sealed by the Connector with its keyring; opaque to the store';
`},
		{2, `
CREATE TABLE {schema}.apps (
	project_id    text NOT NULL,
	id            text COLLATE "C" NOT NULL,
	provider      text NOT NULL,
	client_id     text NOT NULL,
	client_secret bytea NOT NULL,
	scopes        text[],
	is_default    boolean NOT NULL,
	PRIMARY KEY (project_id, id)
);
CREATE INDEX apps_provider_idx ON {schema}.apps (project_id, provider);
COMMENT ON COLUMN {schema}.apps.client_secret IS 'keyring ciphertext bound to project_id, id and provider';
`},
		{3, `
CREATE TABLE {schema}.states (
	key        bytea PRIMARY KEY,
	value      bytea NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX states_expires_at_idx ON {schema}.states (expires_at);
`},
	}
}

// Migrate creates or updates the tables of the stores: it creates the schema
// if it is missing, and a schema_migrations table that records the versions
// applied, then applies each pending migration in a transaction of its own.
//
// Migrate is idempotent, and safe to call from several processes at once
// (replicas starting together): each transaction first takes a transaction
// advisory lock (pg_advisory_xact_lock) derived from the schema name, so the
// migrations of one schema are applied one at a time and each exactly once.
// The stores never migrate on their own: call Migrate at deploy or startup,
// with the same [WithSchema] as the stores.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	cfg, err := newConfig(pool, opts)
	if err != nil {
		return err
	}
	lock := lockKey(cfg.schema)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lock); err != nil {
			return err
		}
		var exists bool
		err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)", cfg.schema).Scan(&exists)
		if err != nil {
			return err
		}
		// CREATE SCHEMA IF NOT EXISTS would need the CREATE privilege on the
		// database even when the schema exists.
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+cfg.quoted); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+cfg.migrations+
			" (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate schema %s: %w", cfg.schema, dbError(err))
	}
	for _, m := range migrations() {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lock); err != nil {
				return err
			}
			var done bool
			err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+cfg.migrations+" WHERE version = $1)", m.version).Scan(&done)
			if err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, strings.ReplaceAll(m.sql, "{schema}", cfg.quoted)); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO "+cfg.migrations+" (version) VALUES ($1)", m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate schema %s to version %d: %w", cfg.schema, m.version, dbError(err))
		}
	}
	return nil
}

// lockKey is the advisory lock that serializes the migrations of one schema.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/connectkit/connect/stores/postgres migrate " + schema))
	return int64(h.Sum64())
}
