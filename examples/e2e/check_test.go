package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/stores/postgres"
)

// TestCheckCatchesBrokenPromises shows that the multi-replica tests can fail: cluster.check,
// which they rely on now that a starved machine may fail flows cleanly, reports each kind of
// broken promise, and reports none for flows that kept them.
func TestCheckCatchesBrokenPromises(t *testing.T) {
	cl := newCluster(t, clusterConfig{replicas: 2})
	ctx := context.Background()
	var good []flowResult
	for i := range 3 {
		r := cl.flow(ctx, fmt.Sprintf("user-%d", i))
		if r.authorizeErr != nil || r.callbackErr != nil || r.unsaved != "" {
			t.Fatalf("flow %d on an idle cluster: authorize %v, callback %v, %s", i, r.authorizeErr, r.callbackErr, r.unsaved)
		}
		good = append(good, r)
	}
	if tl := cl.check(t, good); len(tl.broken) != 0 || tl.succeeded != 3 {
		t.Fatalf("check of three good flows = %s: %q; want 3 succeeded and nothing broken", tl, tl.broken)
	}

	storeErr := fmt.Errorf("%w: saving the connection: postgres: put connection c: timeout", connect.ErrStoreUnavailable)
	tests := []struct {
		name   string
		tamper func(rs []flowResult) []flowResult
		want   string // in one of the broken promises
	}{
		{"connection reported but not stored", func(rs []flowResult) []flowResult {
			c := *rs[0].conn
			c.ID = "conn-never-stored"
			rs[0].conn = &c
			return rs
		}, "(lost)"},
		{"failure that names no store", func(rs []flowResult) []flowResult {
			rs[0].conn, rs[0].callbackErr = nil, connect.ErrStateNotFound
			return rs
		}, "want ErrStoreUnavailable naming the store"},
		{"store failure that names no store", func(rs []flowResult) []flowResult {
			rs[0].conn, rs[0].callbackErr = nil, fmt.Errorf("%w: timeout", connect.ErrStoreUnavailable)
			return rs
		}, "want ErrStoreUnavailable naming the store"},
		{"URL handed out with an error", func(rs []flowResult) []flowResult {
			rs[0] = flowResult{consumer: rs[0].consumer, url: true, authorizeErr: storeErr}
			return rs
		}, "returned a URL with its error"},
		{"connection handed out with an error", func(rs []flowResult) []flowResult {
			rs[0].callbackErr = storeErr
			return rs
		}, "returned a connection with its error"},
		{"URL without its session", func(rs []flowResult) []flowResult {
			rs[0].unsaved = "its pending authorization is not in Redis"
			return rs
		}, "a URL was handed out, but"},
		{"code exchanged twice", func(rs []flowResult) []flowResult {
			rs[0].redirected = false
			return rs
		}, "authorization_code requests"},
		{"connection of no flow", func(rs []flowResult) []flowResult {
			return rs[1:]
		}, "belong to no flow"},
		{"no flow succeeded", func(rs []flowResult) []flowResult {
			for i := range rs {
				rs[i].conn, rs[i].callbackErr = nil, storeErr
			}
			return rs
		}, "none of 3 flows succeeded"},
	}
	// Flows that failed cleanly are counted, not broken: one refused at AuthorizeURL, one
	// whose Callback failed though its connection was saved (the store's answer was lost).
	t.Run("clean failures", func(t *testing.T) {
		rs := slices.Clone(good)
		rs[0].conn, rs[0].callbackErr = nil, storeErr
		rs = append(rs, flowResult{consumer: "user-refused", authorizeErr: fmt.Errorf("%w: saving the pending authorization: redis state store: save: i/o timeout", connect.ErrStoreUnavailable)})
		tl := cl.check(t, rs)
		if len(tl.broken) != 0 || tl.succeeded != 2 || tl.cleanAuthorize != 1 || tl.cleanCallback != 1 || tl.storedAnyway != 1 {
			t.Errorf("check = %s: %q; want 2 succeeded, 1 clean failure at each step, 1 saved anyway, nothing broken", tl, tl.broken)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.tamper(slices.Clone(good))
			tl := cl.check(t, rs)
			if !slices.ContainsFunc(tl.broken, func(b string) bool { return strings.Contains(b, tt.want) }) {
				t.Errorf("check = %q; want a broken promise saying %q", tl.broken, tt.want)
			}
		})
	}

	// What the store holds: a second connection of one consumer, and a state left behind.
	t.Run("duplicate connection", func(t *testing.T) {
		dup, err := postgres.NewConnectionStore(cl.pool, postgres.WithSchema(cl.schema)).Get(ctx, "proj", good[0].conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		dup.Connection.ID, dup.Connection.Group.Ref, dup.Version = "conn-duplicate", "group-2", 0
		if err := postgres.NewConnectionStore(cl.pool, postgres.WithSchema(cl.schema)).Put(ctx, dup); err != nil {
			t.Fatal(err)
		}
		tl := cl.check(t, good)
		if !slices.ContainsFunc(tl.broken, func(b string) bool { return strings.Contains(b, "want at most 1") }) {
			t.Errorf("check = %q; want a broken promise about two connections", tl.broken)
		}
		if _, err := cl.pool.Exec(ctx, "DELETE FROM "+cl.schema+".connections WHERE id = 'conn-duplicate'"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("state left behind", func(t *testing.T) {
		if err := cl.redis.Set(ctx, cl.prefix+"s256:left", "v", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		tl := cl.check(t, good)
		if !slices.ContainsFunc(tl.broken, func(b string) bool { return strings.Contains(b, "pending authorizations left") }) {
			t.Errorf("check = %q; want a broken promise about a state left behind", tl.broken)
		}
	})
}
