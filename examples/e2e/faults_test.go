package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/connectkit/connect"
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
// not saved, every failure says the store is unavailable; and once a server returns the
// flows succeed again.
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

	type outage struct {
		name       string
		p          *proxy
		start, end time.Time
	}
	var (
		mu       sync.Mutex
		results  []flowResult
		outages  []outage
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
	time.Sleep(time.Second)
	for _, o := range []outage{{name: "Redis", p: rp}, {name: "PostgreSQL", p: pp}} {
		o.start = time.Now()
		o.p.stop()
		time.Sleep(1500 * time.Millisecond)
		o.p.start()
		o.end = time.Now()
		outages = append(outages, o)
		time.Sleep(2 * time.Second)
	}
	close(stopping)
	wg.Wait()

	var (
		ok, failedAuthorize, failedCallback, recovered int
		reported                                       []*connect.Connection
	)
	lastEnd := outages[len(outages)-1].end
	for _, r := range results {
		switch {
		case r.authorizeErr != nil:
			failedAuthorize++
			if r.url {
				t.Errorf("flow %s: AuthorizeURL returned a URL with an error", r.consumer)
			}
			if !errors.Is(r.authorizeErr, connect.ErrStoreUnavailable) {
				t.Errorf("flow %s: AuthorizeURL failed with %v, want ErrStoreUnavailable", r.consumer, r.authorizeErr)
			}
		case r.callbackErr != nil:
			failedCallback++
			if r.conn != nil {
				t.Errorf("flow %s: Callback returned a connection with an error", r.consumer)
			}
			if !errors.Is(r.callbackErr, connect.ErrStoreUnavailable) {
				t.Errorf("flow %s: Callback failed with %v, want ErrStoreUnavailable", r.consumer, r.callbackErr)
			}
		default:
			ok++
			reported = append(reported, r.conn)
		}
		// A second after the last outage ended, every flow works again.
		if r.authorizeAt.After(lastEnd.Add(time.Second)) {
			if r.authorizeErr != nil || r.callbackErr != nil {
				t.Errorf("flow %s started %v after the servers returned: authorize %v, callback %v",
					r.consumer, r.authorizeAt.Sub(lastEnd).Round(time.Millisecond), r.authorizeErr, r.callbackErr)
			} else {
				recovered++
			}
		}
	}
	// Every connection reported was saved.
	for _, c := range reported {
		if _, err := cl.replicas[0].Connection(ctx, "proj", c.ID); err != nil {
			t.Errorf("connection %s was reported to the caller but is not stored: %v", c.ID, err)
		}
	}
	if failedAuthorize+failedCallback == 0 {
		t.Error("no flow failed during the outages: the faults did not reach the stores")
	}
	if recovered == 0 {
		t.Error("no flow ran after the servers returned")
	}
	report(t, "faults: %d flows: %d succeeded, %d refused at AuthorizeURL and %d at Callback (all ErrStoreUnavailable), %d succeeded after the servers returned",
		len(results), ok, failedAuthorize, failedCallback, recovered)
}
