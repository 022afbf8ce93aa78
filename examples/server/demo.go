package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
	"github.com/connectkit/connect/examples/authserver"
	"github.com/connectkit/connect/providers"
)

// The demo's fixed names. The API key is handed to the page, which calls connecthttp's routes
// itself to keep the demo small: a real front end talks to its own backend, which keeps the
// key.
const (
	demoProject     = "demo"
	demoAPIKey      = "demo-api-key-shown-to-the-page"
	demoProvider    = "local"        // the local authorization server, by OAuth
	demoKeyProvider = "local-apikey" // the same server's API, by API key
	demoClientID    = "connect-demo"
	demoUser        = "ada"
	demoPassword    = "lovelace"
	callbackPath    = "/callbacks/v1/oauth"
	connectedPath   = "/demo/connected" // where the callback sends the popup on success
	failedPath      = "/demo/failed"    // and on failure
)

// catalogShown are providers of the built-in catalog the page lists, disabled: they need an
// app registered with the real provider.
var catalogShown = []string{"salesforce", "hubspot", "google", "slack", "github"}

//go:embed static
var static embed.FS

// pageTemplate is the demo page and endTemplate the page the popup ends on; static/app.js,
// static/end.js and static/app.css are served as they are.
var (
	pageTemplate = template.Must(template.ParseFS(static, "static/index.html"))
	endTemplate  = template.Must(template.ParseFS(static, "static/end.html"))
)

// pageCSP allows the pages their own scripts, style and API calls, and nothing else.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// setPageHeaders sets the headers of the demo's HTML pages.
func setPageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// demo is the backend and the local authorization server, each on its own loopback listener.
type demo struct {
	url     string // the backend's base URL, http://127.0.0.1:PORT
	authURL string // the authorization server's base URL

	c       *connect.Connector
	conns   *connect.MemoryConnectionStore
	as      *authserver.Server
	backend *http.Server
	auth    *http.Server
	lnB     net.Listener
	lnA     net.Listener
	log     *slog.Logger

	// localKey is the key the local API accepts for the local-apikey provider: random, and
	// shown on the page for the user to paste, as a provider's dashboard would show it.
	localKey string
}

// newDemo listens on addr (the backend) and authAddr (the authorization server), both loopback
// addresses, and wires a Connector to the authorization server, whose client is registered
// with the backend's real callback URL. Call serve to run it.
func newDemo(addr, authAddr string, log *slog.Logger) (_ *demo, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &demo{log: log, conns: connect.NewMemoryConnectionStore(), localKey: "demo-key-" + rand.Text()}
	if err := d.listen(addr, authAddr); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.lnB.Close()
			d.lnA.Close()
		}
	}()

	// The client is confidential; its secret lives only in this process.
	secret := rand.Text()
	if d.as, err = newAuthServer(d.url, d.authURL, secret, d.localKey); err != nil {
		return nil, err
	}
	reg, err := demoRegistry(d.authURL)
	if err != nil {
		return nil, err
	}
	if d.c, err = d.newConnector(reg, secret); err != nil {
		return nil, err
	}
	mux, err := d.routes(reg)
	if err != nil {
		return nil, err
	}
	d.backend = &http.Server{Handler: logRequests(log, "backend", mux), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	d.auth = &http.Server{Handler: logRequests(log, "auth", d.as.Handler()), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return d, nil
}

// listen opens the backend's and the authorization server's listeners, both on loopback, and
// sets the base URLs from them (the ports may have been chosen by the system).
func (d *demo) listen(addr, authAddr string) error {
	for _, a := range []string{addr, authAddr} {
		if err := checkLoopback(a); err != nil {
			return err
		}
	}
	lnB, err := net.Listen("tcp", addr)
	if err != nil {
		return listenError("the backend", "-addr", addr, err)
	}
	lnA, err := net.Listen("tcp", authAddr)
	if err != nil {
		lnB.Close()
		return listenError("the authorization server", "-auth-addr", authAddr, err)
	}
	d.lnB, d.lnA = lnB, lnA
	d.url, d.authURL = baseURL(lnB.Addr()), baseURL(lnA.Addr())
	return nil
}

// listenError says which listener could not listen, and for a busy port which flag picks
// another one.
func listenError(who, flag, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(addr)
		return fmt.Errorf("%s cannot listen on %s: the port is in use; pass %s %s to pick a free one, or another port",
			who, addr, flag, net.JoinHostPort(host, "0"))
	}
	return fmt.Errorf("%s cannot listen on %s (%s): %w", who, addr, flag, err)
}

// newAuthServer returns the local authorization server at authURL, with the demo's client,
// registered with the backend's callback, the demo's user, and the local API's one key.
func newAuthServer(backendURL, authURL, secret, apiKey string) (*authserver.Server, error) {
	as, err := authserver.New(authserver.Config{
		Clients: []authserver.Client{{
			ID: demoClientID, Secret: secret, RedirectURIs: []string{backendURL + callbackPath},
			Scopes: []string{"read", "offline_access"},
		}},
		Users:               []authserver.User{{Username: demoUser, Password: demoPassword}},
		APIKeys:             []string{apiKey},
		AccessTokenLifespan: time.Hour,
	})
	if err != nil {
		return nil, err
	}
	as.SetIssuer(authURL)
	return as, nil
}

// demoRegistry returns the built-in catalog with the local authorization server added twice:
// as an OAuth provider, and as an API taking API keys. Both call the server's protected API,
// GET /api/me, which is also their verification request.
func demoRegistry(authURL string) (*providers.Registry, error) {
	reg := providers.Default()
	verify := &providers.Verify{Method: http.MethodGet, Path: "/me"}
	for _, p := range []*providers.Provider{{
		Name: demoProvider, DisplayName: "Local authorization server",
		AuthURL: authURL + "/authorize", TokenURL: authURL + "/token", Issuer: authURL,
		PKCE: providers.PKCERequired, Prompt: "consent",
		AuthKinds: []providers.AuthKind{providers.OAuth2AuthorizationCode},
		// The access token goes as "Authorization: Bearer", the default.
		API:           &providers.API{BaseURL: authURL + "/api", Verify: verify},
		RevocationURL: authURL + "/revoke",
	}, {
		Name: demoKeyProvider, DisplayName: "Local API (API key)",
		AuthKinds: []providers.AuthKind{providers.APIKey},
		API: &providers.API{
			BaseURL: authURL + "/api", Verify: verify,
			APIKey: &providers.Send{Headers: map[string]string{"X-Api-Key": "{{apiKey}}"}},
		},
	}} {
		if err := reg.Register(p); err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.Name, err)
		}
	}
	return reg, nil
}

// newConnector returns the Connector of the demo project, whose one app is the local
// authorization server's client.
func (d *demo) newConnector(reg *providers.Registry, secret string) (*connect.Connector, error) {
	return connect.New(connect.Config{
		Providers: reg,
		Apps: connect.NewMemoryAppStore(connect.ProviderApp{
			ID: "demo-local", ProjectID: demoProject, Provider: demoProvider,
			ClientID: demoClientID, ClientSecret: connect.Secret(secret), Scopes: []string{"read"},
		}),
		// The memory store keeps credentials in this process only, so no keyring is needed.
		Connections: d.conns,
		RedirectURL: d.url + callbackPath,
		HTTPClient:  &http.Client{Timeout: 10 * time.Second},
		Logger:      d.log,
		OnEvent:     d.logEvent,
	})
}

// logEvent logs the flow's events: what happened to which connection, never a credential
// (an Event carries none).
func (d *demo) logEvent(ctx context.Context, e connect.Event) {
	attrs := []slog.Attr{slog.String("project", e.ProjectID), slog.String("provider", e.Provider)}
	if e.Connection != nil {
		attrs = append(attrs, slog.String("connection", e.Connection.ID), slog.String("status", string(e.Connection.Status)))
	}
	level := slog.LevelInfo
	if e.Err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.Any("error", e.Err))
	}
	d.log.LogAttrs(ctx, level, "connect: "+string(e.Type), attrs...)
}

// routes returns the backend's mux: connecthttp's routes, ended by a popup page, and the demo's
// page, assets and token route.
func (d *demo) routes(reg *providers.Registry) (*http.ServeMux, error) {
	page, err := d.renderPage(reg)
	if err != nil {
		return nil, err
	}
	assets, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	keys, err := connecthttp.StaticKeys(map[string]string{demoAPIKey: demoProject})
	if err != nil {
		return nil, err
	}
	// The callback ends with a redirect to the demo's own pages, styled as the demo page is,
	// which tell the opener how the flow ended.
	api, err := connecthttp.New(d.c, keys, connecthttp.WithRedirects(connectedPath, failedPath), connecthttp.WithLogger(d.log))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		setPageHeaders(w.Header())
		_, _ = w.Write(page)
	})
	mux.Handle("GET /static/{file}", http.StripPrefix("/static/", staticFiles(assets)))
	mux.HandleFunc("GET /demo/token/{id}", tokenHandler(d.c, d.log))
	mux.HandleFunc("POST /demo/connections/{id}/call", d.callHandler)
	mux.HandleFunc("GET "+connectedPath, endPage)
	mux.HandleFunc("GET "+failedPath, endPage)
	return mux, nil
}

// checkLoopback refuses an address that is not host:port on 127.0.0.1 or [::1]: the demo
// serves plain http, and connecthttp allows plain http origins only there.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || (ip != netip.MustParseAddr("127.0.0.1") && ip != netip.IPv6Loopback()) {
		return fmt.Errorf("address %q: the demo listens only on 127.0.0.1 or [::1]", addr)
	}
	return nil
}

// baseURL returns http://host:port for a listener's address.
func baseURL(a net.Addr) string {
	ap := a.(*net.TCPAddr).AddrPort()
	return (&url.URL{Scheme: "http", Host: ap.String()}).String()
}

// serve runs both servers until ctx is done, then shuts them down gracefully, giving requests
// in flight up to 5 seconds. It returns the first error of either server.
func (d *demo) serve(ctx context.Context) error {
	errs := make(chan error, 2)
	for _, s := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{d.backend, d.lnB}, {d.auth, d.lnA}} {
		go func() {
			if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				errs <- err
				return
			}
			errs <- nil
		}()
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, srv := range []*http.Server{d.backend, d.auth} {
		wg.Go(func() {
			if err := srv.Shutdown(sctx); err != nil {
				mu.Lock()
				first = errors.Join(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// pageData fills static/index.html.
type pageData struct {
	APIKey      string
	Project     string
	User        string
	Password    string
	KeyProvider string // the provider of the API-key form
	LocalKey    string // the key the local API accepts, for the user to paste
	Catalog     []catalogEntry
}

type catalogEntry struct{ Name, DisplayName string }

// renderPage renders the page once: it never changes.
func (d *demo) renderPage(reg *providers.Registry) ([]byte, error) {
	data := pageData{
		APIKey: demoAPIKey, Project: demoProject, User: demoUser, Password: demoPassword,
		KeyProvider: demoKeyProvider, LocalKey: d.localKey,
	}
	for _, name := range catalogShown {
		if p, ok := reg.Lookup(name); ok {
			data.Catalog = append(data.Catalog, catalogEntry{Name: p.Name, DisplayName: p.DisplayName})
		}
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// staticFiles serves the page's script and style, and nothing else of the embedded files.
func staticFiles(assets fs.FS) http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "app.js", "app.css", "end.js":
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
		default:
			writeProblem(w, http.StatusNotFound, "not-found", "no such file")
		}
	})
}

// tokenView is what GET /demo/token/{id} shows of a token: never the token itself.
type tokenView struct {
	TokenType string    `json:"tokenType"`
	Expiry    time.Time `json:"expiry,omitzero"`
	// Fingerprint tells tokens apart, e.g. before and after a refresh, without revealing
	// them: see fingerprint.
	Fingerprint string `json:"fingerprint"`
}

// tokenHandler serves GET /demo/token/{id}: a fresh token of the demo project's connection,
// refreshed if need be, shown as its type, expiry and fingerprint. It takes no API key
// because it is the demo's own route, for the page; a real backend uses the token itself and
// never sends it, or any part of it, to a browser.
func tokenHandler(c *connect.Connector, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ts, err := c.TokenSourceFor(r.Context(), demoProject, r.PathValue("id"))
		if err != nil {
			tokenProblem(w, r, log, err)
			return
		}
		tok, err := ts.Token()
		if err != nil {
			tokenProblem(w, r, log, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_ = json.NewEncoder(w).Encode(tokenView{
			TokenType: tok.Type(), Expiry: tok.Expiry, Fingerprint: fingerprint(tok.AccessToken),
		})
	}
}

// fingerprint returns "sha256:" and the first 12 hex digits of the SHA-256 of a token. A
// token's own first characters are the same for every token of a server (ory_at_…); 48 bits
// of a hash tell tokens apart and, the token being random, say nothing of it.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// tokenProblem answers an error of TokenSourceFor or Token.
func tokenProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	switch {
	case errors.Is(err, connect.ErrConnectionNotFound):
		writeProblem(w, http.StatusNotFound, "not-found", "no such connection in the project")
	case errors.Is(err, connect.ErrInvalidRequest):
		writeProblem(w, http.StatusBadRequest, "invalid-request", "the connection id is not valid")
	case errors.Is(err, connect.ErrNotOAuth):
		writeProblem(w, http.StatusConflict, "not-oauth", "the connection has no OAuth tokens")
	case errors.Is(err, connect.ErrStoreUnavailable):
		log.LogAttrs(r.Context(), slog.LevelError, "demo: token", slog.Any("error", err))
		writeProblem(w, http.StatusServiceUnavailable, "store-unavailable", "a store is unavailable; try again later")
	default:
		// A refresh refused by the provider, or the provider unreachable.
		log.LogAttrs(r.Context(), slog.LevelWarn, "demo: token", slog.Any("error", err))
		writeProblem(w, http.StatusBadGateway, "provider-error", "no token could be obtained")
	}
}

// writeProblem writes an RFC 9457 problem, as connecthttp does.
func writeProblem(w http.ResponseWriter, status int, slug, detail string) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "https://connectkit.dev/problems/" + slug, "title": http.StatusText(status),
		"status": status, "detail": detail,
	})
}
