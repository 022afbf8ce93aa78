// Package connecthttp serves a [connect.Connector] over HTTP, in the wire formats of Ampersand and
// Versori: it is an http.Handler to mount in any mux.
//
// Routes:
//
//	POST   /v1/oauth-connect                                          Ampersand: 200, the authorize URL as a JSON string
//	POST   /embed/{hub_id}/connector/{connector_id}/oauth2/initialise Versori: 200, {"url": "..."}
//	POST   /v1/projects/{projectId}/connections                       Ampersand: 201, the connection (new or updated)
//	GET    /v1/projects/{projectId}/connections                       200, a JSON array of connections
//	GET    /v1/projects/{projectId}/connections/{id}                  200, the connection
//	DELETE /v1/projects/{projectId}/connections/{id}                  204
//	GET    /callbacks/v1/oauth                                        the provider's redirect
//
// Every route but the callback needs an X-Api-Key header, which the [KeyFunc] given to [New]
// maps to the one project it may act for. A flow is never started by a GET: the start routes
// take only POST, and only an application/json body, so a browser must preflight a cross-site
// request. Bodies are capped ([WithMaxBodyBytes]) and must be one JSON object without unknown
// fields.
//
// Errors are RFC 9457 application/problem+json objects with a type under
// https://connectkit.dev/problems/ and, for invalid input, an "errors" array of
// {"field", "message"}, naming fields as the request named them:
//
//	400 invalid-body, invalid-request, unknown-provider, unknown-provider-app
//	401 unauthenticated (missing or unknown X-Api-Key)
//	403 forbidden (the key's project is not the request's)
//	404 not-found, 405 method-not-allowed (with Allow), 409 conflict
//	413 body-too-large, 415 unsupported-media-type
//	500 internal-error (the error is logged, never shown)
//	502 provider-error (connect.ErrExchangeFailed, a *connect.ProviderError)
//	503 store-unavailable (connect.ErrStoreUnavailable)
//
// The callback answers with Cache-Control: no-store, Referrer-Policy: no-referrer and
// X-Content-Type-Options: nosniff, clears the binding cookie, and never repeats the code, the
// state or anything else of the provider's redirect. It ends as configured: a 303 redirect
// ([WithRedirects]), a page that tells the opener window ([WithPopup]), or else a plain page.
// A failure is reported by one of these codes:
//
//	access_denied      the user declined at the provider
//	invalid_state      the state is malformed, unknown, already used, or not this browser's
//	expired            the pending authorization timed out
//	store_unavailable  a store failed
//	exchange_failed    the provider refused the authorization or the code exchange
//	invalid_request    the redirect is not a well-formed authorization response
//	server_error       anything else
package connecthttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/connectkit/connect"
)

// maxAPIKey caps the X-Api-Key header.
const maxAPIKey = 4096

// handler serves the routes.
type handler struct {
	c        *connect.Connector
	mux      *http.ServeMux
	keys     KeyFunc
	maxBody  int64
	log      *slog.Logger
	now      func() time.Time
	hubOwner func(r *http.Request, hubID string) (groupRef, consumerRef string, err error)
	ending   ending
}

// New returns the handler of the routes listed on the package, served by c, whose API requests
// keys authenticates. A nil c or keys, a nil option, or an option with an invalid value is an
// error that names each problem and the argument or option it comes from.
func New(c *connect.Connector, keys KeyFunc, opts ...Option) (http.Handler, error) {
	cfg := config{maxBody: DefaultMaxBodyBytes}
	var errs []error
	if c == nil {
		errs = append(errs, errors.New("the Connector c is nil"))
	}
	if keys == nil {
		errs = append(errs, errors.New("keys is nil: API requests cannot be authenticated without a KeyFunc"))
	}
	for i, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.apply(&cfg)
	}
	if err := cfg.check(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("connecthttp: New: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	h := &handler{
		c: c, mux: http.NewServeMux(), keys: keys, maxBody: cfg.maxBody,
		log: cfg.log, now: cfg.now, hubOwner: cfg.hubOwner,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.hubOwner == nil {
		h.hubOwner = func(_ *http.Request, hubID string) (string, string, error) { return hubID, hubID, nil }
	}
	switch {
	case cfg.redirects:
		h.ending = &redirectEnding{success: cfg.successURL, failure: cfg.failureURL}
	case cfg.popup:
		h.ending = newPopupEnding(cfg.popupOrigin)
	default:
		h.ending = plainEnding{}
	}

	h.mux.Handle("/v1/oauth-connect", methods{http.MethodPost: h.api(h.oauthConnect)})
	h.mux.Handle("/embed/{hub_id}/connector/{connector_id}/oauth2/initialise", methods{http.MethodPost: h.api(h.initialise)})
	h.mux.Handle("/v1/projects/{projectId}/connections", methods{
		http.MethodGet: h.api(h.project(h.listConnections)), http.MethodPost: h.api(h.project(h.createConnection)),
	})
	h.mux.Handle("/v1/projects/{projectId}/connections/{id}", methods{
		http.MethodGet: h.api(h.project(h.getConnection)), http.MethodDelete: h.api(h.project(h.deleteConnection)),
	})
	h.mux.Handle("/v1/projects/{projectId}/connections/{id}/verify", methods{
		http.MethodPost: h.api(h.project(h.verifyConnection)),
	})
	h.mux.Handle("/callbacks/v1/oauth", methods{http.MethodGet: http.HandlerFunc(h.callback)})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, newProblem(http.StatusNotFound, "not-found", "no such route"))
	})
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// methods routes a request by its method and answers 405, with Allow, to any other.
type methods map[string]http.Handler

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if next, ok := m[r.Method]; ok {
		next.ServeHTTP(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for _, k := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if _, ok := m[k]; ok {
			allow = append(allow, k)
		}
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "the route takes "+strings.Join(allow, " or ")))
}

// apiHandler serves an authenticated request of the key's project.
type apiHandler func(w http.ResponseWriter, r *http.Request, project string)

// api authenticates the request by its X-Api-Key.
func (h *handler) api(next apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys := r.Header.Values("X-Api-Key")
		var project string
		ok := len(keys) == 1 && keys[0] != "" && len(keys[0]) <= maxAPIKey
		if ok {
			project, ok = h.keys(r.Context(), keys[0])
		}
		if !ok || project == "" {
			w.Header().Set("WWW-Authenticate", `ApiKey header="X-Api-Key"`)
			writeProblem(w, newProblem(http.StatusUnauthorized, "unauthenticated", "a valid X-Api-Key header is required"))
			return
		}
		next(w, r, project)
	})
}

// project refuses a request whose path names another project than the key's.
func (h *handler) project(next apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, project string) {
		if r.PathValue("projectId") != project {
			writeProblem(w, forbidden("projectId"))
			return
		}
		next(w, r, project)
	}
}

func forbidden(field string) *problem {
	return newProblem(http.StatusForbidden, "forbidden", "the API key may not act for this "+field)
}

// writeJSON writes v as JSON, leaving & < > as they are (they are safe in application/json,
// and Ampersand's answers show URLs with a bare &).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// oauthConnect serves POST /v1/oauth-connect (Ampersand's oauth-connect request).
func (h *handler) oauthConnect(w http.ResponseWriter, r *http.Request, project string) {
	if p := checkJSONType(r); p != nil {
		writeProblem(w, p)
		return
	}
	var req connect.OAuthConnectRequest
	if p := decodeBody(w, r, h.maxBody, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if req.ProjectID != "" && req.ProjectID != project {
		writeProblem(w, forbidden("projectId"))
		return
	}
	a, err := h.c.AuthorizeURL(r.Context(), req)
	if err != nil {
		writeProblem(w, h.errorProblem(r, err, nil))
		return
	}
	if ck := a.Cookie(h.now()); ck != nil {
		http.SetCookie(w, ck)
	}
	writeJSON(w, http.StatusOK, a.URL)
}

// initialiseRequest is the body of Versori's oauth2/initialise request.
type initialiseRequest struct {
	AuthorizeURL         string                `json:"authorizeUrl"`
	ClientID             string                `json:"clientId"`
	Credential           *initialiseCredential `json:"credential"`
	AdditionalParams     string                `json:"additionalParams"`
	DisableOfflineAccess bool                  `json:"disableOfflineAccess"`
	Prompt               string                `json:"prompt"`
	Scopes               []string              `json:"scopes"`
}

type initialiseCredential struct {
	ID             string `json:"id"`
	OrganisationID string `json:"organisationId"`
}

// initialiseResponse is the answer of Versori's oauth2/initialise.
type initialiseResponse struct {
	URL string `json:"url"`
}

// initialiseName maps a field of connect.OAuthConnectRequest to Versori's name for it; the
// provider's inputs come from authorizeUrl.
func initialiseName(field string) string {
	switch field {
	case "projectId":
		return "credential.organisationId"
	case "providerAppId":
		return "credential.id"
	case "provider":
		return "connector_id"
	case "groupRef", "consumerRef", "groupName", "consumerName":
		return "hub_id"
	case "providerWorkspaceRef":
		return "authorizeUrl"
	}
	if strings.HasPrefix(field, "providerMetadata") {
		return "authorizeUrl"
	}
	return field
}

// initialise serves Versori's POST /embed/{hub_id}/connector/{connector_id}/oauth2/initialise.
func (h *handler) initialise(w http.ResponseWriter, r *http.Request, project string) {
	if p := checkJSONType(r); p != nil {
		writeProblem(w, p)
		return
	}
	var body initialiseRequest
	if p := decodeBody(w, r, h.maxBody, &body); p != nil {
		writeProblem(w, p)
		return
	}
	var missing []fieldProblem
	required := func(v, field string) {
		if v == "" {
			missing = append(missing, fieldProblem{Field: field, Message: "required"})
		}
	}
	cred := body.Credential
	if cred == nil {
		cred = &initialiseCredential{}
	}
	required(body.AuthorizeURL, "authorizeUrl")
	required(body.ClientID, "clientId")
	required(cred.ID, "credential.id")
	required(cred.OrganisationID, "credential.organisationId")
	if missing != nil {
		writeProblem(w, invalidFields("invalid-request", missing))
		return
	}
	if cred.OrganisationID != project {
		writeProblem(w, forbidden("credential.organisationId"))
		return
	}
	hubID := r.PathValue("hub_id")
	groupRef, consumerRef, err := h.hubOwner(r, hubID)
	if err != nil {
		writeProblem(w, h.hubProblem(r, err))
		return
	}
	req := connect.OAuthConnectRequest{
		ProjectID:            cred.OrganisationID,
		Provider:             r.PathValue("connector_id"),
		GroupRef:             groupRef,
		ConsumerRef:          consumerRef,
		ProviderAppID:        cred.ID,
		Scopes:               body.Scopes,
		Prompt:               body.Prompt,
		AdditionalParams:     body.AdditionalParams,
		DisableOfflineAccess: body.DisableOfflineAccess,
		AuthorizeURL:         body.AuthorizeURL,
		ClientID:             body.ClientID,
	}
	a, err := h.c.AuthorizeURL(r.Context(), req)
	if err != nil {
		writeProblem(w, h.errorProblem(r, err, initialiseName))
		return
	}
	writeJSON(w, http.StatusOK, initialiseResponse{URL: a.URL})
}

// hubProblem answers an error of the WithHubOwner function.
func (h *handler) hubProblem(r *http.Request, err error) *problem {
	switch {
	case errors.Is(err, connect.ErrStoreUnavailable):
		return h.errorProblem(r, err, nil)
	case errors.Is(err, connect.ErrInvalidRequest):
		return invalidFields("invalid-request", []fieldProblem{{Field: "hub_id", Message: "is not a valid hub"}})
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "connecthttp: hub refused", slog.Any("error", err))
	return forbidden("hub_id")
}

// createConnection serves POST /v1/projects/{projectId}/connections (Ampersand's
// ConnectionRequest). With "verify": true in the body, the provider's verification request is
// made first, and a credential the provider refuses is not stored (422, bad-credentials).
func (h *handler) createConnection(w http.ResponseWriter, r *http.Request, project string) {
	if p := checkJSONType(r); p != nil {
		writeProblem(w, p)
		return
	}
	var req connect.ConnectionRequest
	if p := decodeBody(w, r, h.maxBody, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if req.ProjectID != "" && req.ProjectID != project {
		writeProblem(w, invalidFields("invalid-request", []fieldProblem{{Field: "projectId", Message: "must be omitted or be the project of the path"}}))
		return
	}
	req.ProjectID = project
	conn, err := h.c.Connect(r.Context(), req)
	if err != nil {
		writeProblem(w, h.errorProblem(r, err, nil))
		return
	}
	// 201 also when the group and consumer already had the connection and it was updated:
	// connect does not say which happened.
	writeJSON(w, http.StatusCreated, conn)
}

// listConnections serves GET /v1/projects/{projectId}/connections.
func (h *handler) listConnections(w http.ResponseWriter, r *http.Request, project string) {
	q := r.URL.Query()
	var bad []fieldProblem
	for k, vs := range q {
		switch {
		case k != "provider" && k != "groupRef" && k != "consumerRef":
			bad = append(bad, fieldProblem{Field: echo(k), Message: "is not a filter; use provider, groupRef or consumerRef"})
		case len(vs) != 1:
			bad = append(bad, fieldProblem{Field: k, Message: "must be given once"})
		case len(vs[0]) > 255 || !utf8.ValidString(vs[0]) || strings.ContainsFunc(vs[0], func(r rune) bool { return r < 0x20 || r == 0x7f }):
			bad = append(bad, fieldProblem{Field: k, Message: "must be at most 255 octets of text"})
		}
	}
	if bad != nil {
		writeProblem(w, invalidFields("invalid-request", bad))
		return
	}
	conns, err := h.c.Connections(r.Context(), project, connect.ConnectionFilter{
		Provider: q.Get("provider"), GroupRef: q.Get("groupRef"), ConsumerRef: q.Get("consumerRef"),
	})
	if err != nil {
		writeProblem(w, h.errorProblem(r, err, nil))
		return
	}
	if conns == nil {
		conns = []*connect.Connection{}
	}
	writeJSON(w, http.StatusOK, conns)
}

// getConnection serves GET /v1/projects/{projectId}/connections/{id}.
func (h *handler) getConnection(w http.ResponseWriter, r *http.Request, project string) {
	conn, err := h.c.Connection(r.Context(), project, r.PathValue("id"))
	if err != nil {
		writeProblem(w, h.errorProblem(r, err, nil))
		return
	}
	writeJSON(w, http.StatusOK, conn)
}

// verifyConnection serves POST /v1/projects/{projectId}/connections/{id}/verify: the
// provider's verification request with the connection's credential. It answers 200 with the
// connection when the provider accepts it, and 422 (bad-credentials) when it refuses it.
func (h *handler) verifyConnection(w http.ResponseWriter, r *http.Request, project string) {
	id := r.PathValue("id")
	if err := h.c.Verify(r.Context(), project, id); err != nil {
		writeProblem(w, h.errorProblem(r, err, nil))
		return
	}
	conn, err := h.c.Connection(r.Context(), project, id)
	if err != nil {
		writeProblem(w, h.errorProblem(r, err, nil))
		return
	}
	writeJSON(w, http.StatusOK, conn)
}

// deleteConnection serves DELETE /v1/projects/{projectId}/connections/{id}.
func (h *handler) deleteConnection(w http.ResponseWriter, r *http.Request, project string) {
	if err := h.c.DeleteConnection(r.Context(), project, r.PathValue("id")); err != nil {
		writeProblem(w, h.errorProblem(r, err, nil))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
