// Package postgres keeps connect's connections, provider apps and pending
// authorizations in PostgreSQL, so that every replica of a service sees the same
// ones.
//
// Create the tables once, at deploy or startup, with [Migrate]; the stores never
// change the schema on their own. Then make the stores on the same pool:
//
//   - [ConnectionStore] implements [connect.ConnectionStore] with optimistic
//     concurrency, so replicas refreshing one connection at once never lose a
//     rotated refresh token. It reports itself persistent, so [connect.New]
//     refuses to run it without a keyring: credentials reach it only as
//     ciphertext.
//   - [AppStore] implements [connect.AppStore] and seals client secrets with a
//     [keyring.Keyring].
//   - [StateStore] implements [state.Store]; Take is one DELETE ... RETURNING,
//     so a state is used at most once whichever replica gets the callback.
//
// Every store is safe for concurrent use. The tables live in one schema,
// "connect" unless [WithSchema] names another.
package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultSchema is the schema that holds the tables when no [WithSchema] option
// is given.
const DefaultSchema = "connect"

// maxIdentifierLen is PostgreSQL's NAMEDATALEN-1: longer names are truncated.
const maxIdentifierLen = 63

// Option configures [Migrate] and the stores. Make one with [WithSchema] or
// [WithClock].
type Option interface {
	apply(*options)
}

type options struct {
	schema string
	now    func() time.Time
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithSchema names the schema that holds the tables; the default is
// [DefaultSchema]. The name must be a plain lower-case identifier: 1 to 63
// characters of [a-z0-9_], not starting with a digit nor with "pg_". Give the
// same schema to [Migrate] and to the stores. A bad name makes [Migrate] and
// [NewAppStore] fail, and every method of the other stores.
func WithSchema(name string) Option {
	return optionFunc(func(o *options) { o.schema = name })
}

// WithClock sets the clock that [StateStore] uses for expiry; nil or the
// default means time.Now. The stores that do not expire anything ignore it.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) { o.now = now })
}

// config is the resolved options, with the quoted names of the tables.
type config struct {
	schema      string // as given
	now         func() time.Time
	quoted      string // the schema, quoted
	migrations  string // the tables, schema-qualified and quoted
	connections string
	apps        string
	states      string
}

func newConfig(pool *pgxpool.Pool, opts []Option) (config, error) {
	o := options{schema: DefaultSchema}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if pool == nil {
		return config{}, errors.New("postgres: the pool is nil")
	}
	if !plainIdentifier(o.schema) {
		return config{}, fmt.Errorf("postgres: schema name of %d bytes is not 1-%d characters of [a-z0-9_] starting with a letter or _ (and not pg_)",
			len(o.schema), maxIdentifierLen)
	}
	table := func(name string) string { return pgx.Identifier{o.schema, name}.Sanitize() }
	return config{
		schema:      o.schema,
		now:         o.now,
		quoted:      pgx.Identifier{o.schema}.Sanitize(),
		migrations:  table("schema_migrations"),
		connections: table("connections"),
		apps:        table("apps"),
		states:      table("states"),
	}, nil
}

// plainIdentifier reports whether s is a lower-case SQL identifier that needs
// no quoting and names no system schema.
func plainIdentifier(s string) bool {
	if len(s) == 0 || len(s) > maxIdentifierLen || len(s) >= 3 && s[:3] == "pg_" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', c == '_':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// dbError returns err for wrapping, with the fields of a server error that may
// quote stored data (e.g. "Failing row contains ...") removed. Only the
// message, SQLSTATE and names of the schema objects remain.
func dbError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	return &pgconn.PgError{
		Severity: pe.Severity, SeverityUnlocalized: pe.SeverityUnlocalized, Code: pe.Code, Message: pe.Message,
		SchemaName: pe.SchemaName, TableName: pe.TableName, ColumnName: pe.ColumnName,
		DataTypeName: pe.DataTypeName, ConstraintName: pe.ConstraintName,
	}
}

// uniqueViolation returns the constraint a unique violation names, and whether
// err is one (SQLSTATE 23505).
func uniqueViolation(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}
