// Command server is a runnable demo of connect: one backend serving connecthttp's routes and a
// small page, and a local OAuth 2.0 authorization server (examples/authserver) with a small
// protected API, both on loopback in this process. Open the printed URL, click Connect, and
// approve in the popup as ada / lovelace: the page lists the new connection and its access
// token's fingerprint. The page also connects the local API with an API key. Requests and
// the flow's events are logged to stderr.
//
//	go run ./examples/server
//	go run ./examples/server -addr 127.0.0.1:0
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the backend's address, on 127.0.0.1 or [::1]; port 0 picks one")
	authAddr := flag.String("auth-addr", "127.0.0.1:0", "the local authorization server's address, on 127.0.0.1 or [::1]")
	verbose := flag.Bool("v", false, "log debug records")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, *addr, *authAddr, log, func(url string) {
		fmt.Printf("connect demo: open %s/ and approve as %s / %s (Ctrl-C stops)\n", url, demoUser, demoPassword)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves the demo until ctx is done; ready is called with the backend's URL once both
// servers listen.
func run(ctx context.Context, addr, authAddr string, log *slog.Logger, ready func(url string)) error {
	d, err := newDemo(addr, authAddr, log)
	if err != nil {
		return err
	}
	ready(d.url)
	return d.serve(ctx)
}
