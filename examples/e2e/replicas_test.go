package e2e_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadFlows is the number of flows of TestMultiReplicaLoad: CONNECT_LOAD_FLOWS, or a short
// run by default.
func loadFlows(t *testing.T) int {
	if v := os.Getenv("CONNECT_LOAD_FLOWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CONNECT_LOAD_FLOWS=%q is not a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 100
	}
	return 1000
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)]
}

// TestMultiReplicaLoad runs authorize-then-callback flows through three replicas sharing
// Redis and PostgreSQL, each callback sent to a replica at random, while other goroutines
// keep refreshing a few hot connections through random replicas (the access tokens live two
// seconds). It asserts connect's promises, not the machine's speed: a flow may fail when a
// starved store misses the store timeout, as long as it fails cleanly (see failedCleanly and
// cluster.check); those failures are counted and reported. Nothing may be lost or doubled:
// every successful flow has exactly one connection, and every connection still refreshes
// afterwards, so no rotated refresh token was lost.
//
// CONNECT_LOAD_FLOWS sets the number of flows (10000 for the full run; 1000 by default).
func TestMultiReplicaLoad(t *testing.T) {
	cl := newCluster(t, clusterConfig{replicas: 3, accessTokenLifespan: 2 * time.Second, expiryDelta: 500 * time.Millisecond})
	flows := loadFlows(t)
	const workers = 16
	ctx := context.Background()

	var (
		hot    atomic.Pointer[[]string]
		hotMu  sync.Mutex
		hotIDs []string
	)
	results := make([]flowResult, flows)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				results[i] = cl.flow(ctx, fmt.Sprintf("user-%05d", i))
				if c := results[i].conn; c != nil {
					// The first eight connections become the hot ones.
					hotMu.Lock()
					if len(hotIDs) < 8 {
						if hotIDs = append(hotIDs, c.ID); len(hotIDs) == 8 {
							ids := slices.Clone(hotIDs)
							hot.Store(&ids)
						}
					}
					hotMu.Unlock()
				}
			}
		})
	}

	// Refreshers: the tokens of the first connections, fetched through random replicas over
	// and over while the flows run. Their access tokens expire every two seconds, so the
	// replicas keep racing to refresh the same connections.
	stop := make(chan struct{})
	var tokenCalls, tokenClean atomic.Int64
	var unsaved sync.Map // ids whose refreshed token a store failure kept from being saved
	var rwg sync.WaitGroup
	for w := range 6 {
		rwg.Go(func() {
			for n := w; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ids := hot.Load()
				if ids == nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				id := (*ids)[n%len(*ids)]
				ts, err := cl.replica().TokenSource(ctx, id)
				if err == nil {
					_, err = ts.Token()
				}
				tokenCalls.Add(1)
				switch {
				case err == nil:
				case failedCleanly(err):
					tokenClean.Add(1)
					if strings.Contains(err.Error(), "saving the refreshed token") {
						unsaved.Store(id, err.Error())
					}
				default:
					t.Errorf("refreshing %s: %v; want a token, or ErrStoreUnavailable naming the store", id, err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}

	start := time.Now()
	for i := range flows {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	rwg.Wait()

	tl := cl.check(t, results)
	tl.fail(t)
	var authLat, cbLat []time.Duration
	for _, r := range results {
		if r.authorizeErr == nil && r.callbackErr == nil {
			authLat = append(authLat, r.authorize)
			cbLat = append(cbLat, r.callback)
		}
	}

	// No token was lost: each connection still refreshes, through any replica. The access
	// tokens have expired by now (they lived two seconds), so every Token call refreshes. A
	// refresh that fails cleanly is tried again: it says nothing of the stored token.
	time.Sleep(2 * time.Second)
	var vwg sync.WaitGroup
	var vmu sync.Mutex
	var broken []string
	ids := make(chan string)
	for range 4 {
		vwg.Go(func() {
			for id := range ids {
				err := retryClean(func() error {
					ts, err := cl.replica().TokenSource(ctx, id)
					if err == nil {
						_, err = ts.Token()
					}
					return err
				})
				if err != nil {
					msg := fmt.Sprintf("%s: %v", id, err)
					if why, ok := unsaved.Load(id); ok {
						msg += fmt.Sprintf(" (an earlier refresh failed with %q)", why)
					}
					vmu.Lock()
					broken = append(broken, msg)
					vmu.Unlock()
				}
			}
		})
	}
	for _, id := range tl.connections {
		ids <- id
	}
	close(ids)
	vwg.Wait()
	if len(broken) > 0 {
		t.Errorf("%d of %d connections no longer refresh (a rotated refresh token was lost), e.g. %v",
			len(broken), len(tl.connections), broken[:min(3, len(broken))])
	}

	perReplica := float64(flows) / elapsed.Seconds() / float64(len(cl.replicas))
	report(t, "load: %s", tl)
	report(t, "load: %d flows through %d replicas in %v: %.0f flows/s in all, %.0f per replica",
		flows, len(cl.replicas), elapsed.Round(time.Millisecond), float64(flows)/elapsed.Seconds(), perReplica)
	report(t, "load: AuthorizeURL p50 %v p99 %v; Callback p50 %v p99 %v (successful flows)",
		percentile(authLat, 0.5).Round(time.Microsecond), percentile(authLat, 0.99).Round(time.Microsecond),
		percentile(cbLat, 0.5).Round(time.Microsecond), percentile(cbLat, 0.99).Round(time.Microsecond))
	report(t, "load: %d token requests on hot connections during the run (%d failed cleanly), refresh_token grants at the server: %d; %d of %d connections no longer refresh",
		tokenCalls.Load(), tokenClean.Load(), cl.as.TokenRequests()["refresh_token"], len(broken), len(tl.connections))
}
