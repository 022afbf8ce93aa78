package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/connectkit/connect/stores/postgres"
	"github.com/jackc/pgx/v5"
)

// BenchmarkTake times a Save and a Take of a 300-byte value under a new key,
// through the StateStore ("store") and as the bare statements on the pool
// ("bare": the same INSERT and DELETE ... RETURNING value, without the expiry
// check). The difference is the cost of the store over the SQL.
func BenchmarkTake(b *testing.B) {
	pool := testPool(b)
	schema := migrated(b, pool)
	value := bytes.Repeat([]byte{'v'}, 300)
	ctx := context.Background()

	b.Run("store", func(b *testing.B) {
		st := postgres.NewStateStore(pool, postgres.WithSchema(schema))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			key := fmt.Sprintf("s256:store-%038d", i)
			if err := st.Save(ctx, key, value, time.Minute); err != nil {
				b.Fatal(err)
			}
			if v, err := st.Take(ctx, key); err != nil || len(v) != len(value) {
				b.Fatalf("Take = %d bytes, %v", len(v), err)
			}
		}
	})

	b.Run("bare", func(b *testing.B) {
		table := pgx.Identifier{schema, "states"}.Sanitize()
		insert := "INSERT INTO " + table + ` (key, value, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`
		take := "DELETE FROM " + table + " WHERE key = $1 RETURNING value"
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			key := []byte(fmt.Sprintf("s256:bare-%039d", i))
			if _, err := pool.Exec(ctx, insert, key, value, time.Now().Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
			var v []byte
			if err := pool.QueryRow(ctx, take, key).Scan(&v); err != nil || len(v) != len(value) {
				b.Fatalf("take = %d bytes, %v", len(v), err)
			}
		}
	})
}
