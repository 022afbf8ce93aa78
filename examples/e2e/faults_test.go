package e2e_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// quiet is a go-redis logger that drops what it is given.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// proxy is a TCP proxy in front of a server, which a test stops and starts again: stopped,
// it refuses new connections and cuts the open ones, as a server that went down does.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, s) {
		c.Close()
		s.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
	<-done
	c.Close()
	s.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// track records an open pair; it reports false when the proxy was stopped meanwhile.
func (p *proxy) track(c, s net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	return true
}

// stop closes the listener and every open connection.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// start listens again on the same address.
func (p *proxy) start() {
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Errorf("proxy for %s: listening again: %v", p.target, err)
		return
	}
	p.serve(ln)
}

// TestMultiReplicaFaults stops Redis, then PostgreSQL, in the middle of a stream of flows
// through three replicas (the servers sit behind proxies that the test cuts). connect fails
// closed: no URL is handed out without its session saved, no connection is reported that was
// not saved, every failure says which store failed (see cluster.check); and once a server
// returns, flows succeed again. Each outage lasts until a flow has failed on it, and the test
// ends once a flow begun after the last one has succeeded, so a slow machine only makes it
// longer: a flow that fails cleanly after the servers returned is counted, not a failure.
func TestMultiReplicaFaults(t *testing.T) {
	redisAddr, pgURL := servers(t)
	// go-redis reports each failed dial through its package logger; the outages are meant.
	goredis.SetLogger(quiet{})
	rp := newProxy(t, redisAddr)
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	pp := newProxy(t, u.Host)
	u.Host = pp.addr
	cl := newCluster(t, clusterConfig{
		replicas: 3, redisAddr: rp.addr, pgURL: u.String(), storeTimeout: time.Second,
	})
	ctx := context.Background()

	var (
		mu       sync.Mutex
		results  []flowResult
		stopping = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopping:
					return
				default:
				}
				r := cl.flow(ctx, fmt.Sprintf("user-%d-%d", w, i))
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if r.authorizeErr != nil || r.callbackErr != nil {
					time.Sleep(10 * time.Millisecond) // a client backing off
				}
			}
		})
	}
	// waitFor waits until a flow that began after since has ended as ok says, or until the
	// limit, which only a machine that stopped running flows at all reaches.
	waitFor := func(since time.Time, limit time.Duration, ok func(flowResult) bool) bool {
		for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			found := slices.ContainsFunc(results, func(r flowResult) bool { return r.authorizeAt.After(since) && ok(r) })
			mu.Unlock()
			if found {
				return true
			}
		}
		return false
	}
	succeeded := func(r flowResult) bool { return r.authorizeErr == nil && r.callbackErr == nil }
	if !waitFor(time.Time{}, time.Minute, succeeded) {
		t.Error("no flow succeeded before the outages")
	}
	var lastEnd time.Time
	for _, o := range []struct {
		name, store string
		p           *proxy
	}{{"Redis", "redis state store: ", rp}, {"PostgreSQL", "postgres: ", pp}} {
		start := time.Now()
		o.p.stop()
		// The faults must reach the stores: some flow fails on this one.
		if !waitFor(start, time.Minute, func(r flowResult) bool {
			err := cmp.Or(r.authorizeErr, r.callbackErr)
			return err != nil && strings.Contains(err.Error(), o.store)
		}) {
			t.Errorf("no flow failed on %s while it was down: the fault did not reach the store", o.name)
		}
		o.p.start()
		lastEnd = time.Now()
		if !waitFor(lastEnd, time.Minute, succeeded) {
			t.Errorf("no flow begun after %s returned succeeded", o.name)
		}
	}
	close(stopping)
	wg.Wait()

	tl := cl.check(t, results)
	tl.fail(t)
	recovered, cleanAfter := 0, 0
	for _, r := range results {
		if r.authorizeAt.After(lastEnd) {
			if succeeded(r) {
				recovered++
			} else {
				cleanAfter++
			}
		}
	}
	report(t, "faults: %s", tl)
	report(t, "faults: after the servers returned, %d flows succeeded and %d failed cleanly", recovered, cleanAfter)
}
