// Command loadbench compares, with wrk, the throughput of connecthttp's POST /v1/oauth-connect
// (Ampersand's oauth-connect request: API key, decoding, validation, state token and PKCE verifier, the
// memory state store) with that of a bare net/http handler writing a constant JSON string URL,
// the floor of any HTTP service. Both run on loopback in this process, one after the other.
// The goal is a ratio of at least 0.5.
//
//	go run ./examples/loadbench -duration 10s
//
// It needs wrk on PATH (apt-get install wrk).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
	"github.com/connectkit/connect/providers"
)

const (
	apiKey  = "bench-api-key"
	project = "bench"
	// body is Ampersand's oauth-connect request body, for project bench.
	body = `
{
  "projectId": "bench",
  "provider": "salesforce",
  "groupRef": "group-123",
  "consumerRef": "user_123456"
}
`
	// constantURL is what the bare handler answers, as long as a real authorize URL.
	constantURL = "https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=bench-client-id" +
		"&redirect_uri=https%3A%2F%2Fapi.example.com%2Fcallbacks%2Fv1%2Foauth&scope=refresh_token" +
		"&state=0Nnd_iuqhq5LAjjaCGQPjaVxMF_6Til6scLPB4cjBR0&prompt=login" +
		"&code_challenge=dTFKCKN-g5CZkVmC9qTN8CE9gKE-dUePPUDDpleu8xo&code_challenge_method=S256"
	goal = 0.5
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long wrk loads each server")
	connections := flag.Int("connections", 32, "wrk's open connections (-c)")
	threads := flag.Int("threads", 2, "wrk's threads (-t)")
	flag.Parse()
	if err := run(*duration, *connections, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, connections, threads int) error {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not on PATH; install it (apt-get install wrk) and run again")
	}
	if duration < time.Second || connections < 1 || threads < 1 || threads > connections {
		return errors.New("need -duration of at least 1s and 1 <= -threads <= -connections")
	}
	dir, err := os.MkdirTemp("", "loadbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "oauth-connect.lua")
	if err := os.WriteFile(script, []byte(luaScript()), 0o600); err != nil {
		return err
	}

	c, err := connect.New(connect.Config{
		Providers: providers.Default(),
		Apps: connect.NewMemoryAppStore(connect.ProviderApp{
			ID: "bench-app", ProjectID: project, Provider: "salesforce",
			ClientID: "bench-client-id", ClientSecret: "bench-client-secret",
		}),
		RedirectURL: "https://api.example.com/callbacks/v1/oauth",
	})
	if err != nil {
		return err
	}
	keys, err := connecthttp.StaticKeys(map[string]string{apiKey: project})
	if err != nil {
		return err
	}
	api, err := connecthttp.New(c, keys)
	if err != nil {
		return err
	}
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"connecthttp", api},
		{"net/http constant", http.HandlerFunc(constant)},
	}
	rates := make([]float64, len(handlers))
	for i, hd := range handlers {
		url, stop, err := serve(hd.h)
		if err != nil {
			return err
		}
		err = check(url + "/v1/oauth-connect")
		if err == nil {
			rates[i], err = load(wrk, script, url+"/v1/oauth-connect", duration, connections, threads)
		}
		stop()
		if err != nil {
			return fmt.Errorf("%s: %w", hd.name, err)
		}
		fmt.Printf("%-18s %10.0f requests/sec\n", hd.name, rates[i])
	}
	ratio := rates[0] / rates[1]
	verdict := "meets the goal"
	if ratio < goal {
		verdict = "below the goal"
	}
	fmt.Printf("ratio              %10.2f (goal >= %.1f: %s)\n", ratio, goal, verdict)
	return nil
}

// constant is the bare handler: the answer's shape without any of the work.
func constant(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(constantURL)
}

// luaScript is wrk's script: every request is Ampersand's oauth-connect POST.
func luaScript() string {
	return "wrk.method = \"POST\"\n" +
		"wrk.body = " + strconv.Quote(body) + "\n" +
		"wrk.headers[\"Content-Type\"] = \"application/json\"\n" +
		"wrk.headers[\"X-Api-Key\"] = \"" + apiKey + "\"\n"
}

// serve serves h on a loopback port until stop is called.
func serve(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// check sends the request once and insists on a 200 with a JSON string, so that wrk never
// measures a server answering errors.
func check(url string) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apiKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var u string
	if err := json.NewDecoder(res.Body).Decode(&u); err != nil || res.StatusCode != http.StatusOK || !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("the request answered %d, not a URL", res.StatusCode)
	}
	return nil
}

// load runs wrk against url and returns its requests per second. Any non-2xx answer or
// socket error is an error.
func load(wrk, script, url string, duration time.Duration, connections, threads int) (float64, error) {
	cmd := exec.Command(wrk, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(connections),
		"-d"+strconv.Itoa(int(duration.Round(time.Second).Seconds()))+"s", "-s", script, url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("wrk: %w: %s", err, out.String())
	}
	rate := -1.0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"), strings.HasPrefix(line, "Socket errors:"):
			return 0, fmt.Errorf("wrk reports %q", line)
		case strings.HasPrefix(line, "Requests/sec:"):
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, "Requests/sec:")), 64)
			if err != nil {
				return 0, fmt.Errorf("wrk's %q: %w", line, err)
			}
			rate = v
		}
	}
	if rate < 0 {
		return 0, fmt.Errorf("no Requests/sec in wrk's output: %s", out.String())
	}
	return rate, nil
}
