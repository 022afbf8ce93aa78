package main

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/connectkit/connect"
)

// maxAnswer caps the API answer the call route relays to the page.
const maxAnswer = 64 << 10

// callView is what POST /demo/connections/{id}/call shows of the API's answer.
type callView struct {
	Method string          `json:"method"`
	URL    string          `json:"url"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body,omitempty"` // the answer when it is JSON
	Text   string          `json:"text,omitempty"` // else its start, as text
}

// callHandler serves POST /demo/connections/{id}/call: it calls the connection's API, GET
// /me under its base URL, with the *http.Client of connect.Connector.Client, which sends the
// connection's credential the way its provider wants it, and shows the page the answer.
//
// It asks for the demo's API key, as connecthttp's routes do: a POST another site's form
// could send must not make the call. The page never gets the credential; the local API's
// answer says whose it is, not what it is.
func (d *demo) callHandler(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("X-Api-Key")
	if subtle.ConstantTimeCompare([]byte(key), []byte(demoAPIKey)) != 1 {
		writeProblem(w, http.StatusUnauthorized, "unauthorized", "send the demo's API key in X-Api-Key")
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	client, err := d.c.Client(ctx, demoProject, id)
	if err != nil {
		d.callProblem(w, r, err)
		return
	}
	base, err := d.c.APIBaseURL(ctx, demoProject, id)
	if err != nil {
		d.callProblem(w, r, err)
		return
	}
	target := base.JoinPath("me")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		d.callProblem(w, r, err)
		return
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		d.callProblem(w, r, err)
		return
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		d.callProblem(w, r, err)
		return
	}
	v := callView{Method: req.Method, URL: target.String(), Status: res.StatusCode}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && json.Valid(body) {
		v.Body = json.RawMessage(bytes.TrimSpace(body))
	} else {
		v.Text = strings.ToValidUTF8(string(body), "\uFFFD")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}

// callProblem answers an error of Client, APIBaseURL or the call itself. connect's errors
// name no credential, so they may be logged.
func (d *demo) callProblem(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, connect.ErrConnectionNotFound):
		writeProblem(w, http.StatusNotFound, "not-found", "no such connection in the project")
	case errors.Is(err, connect.ErrInvalidRequest):
		writeProblem(w, http.StatusBadRequest, "invalid-request", "the connection id is not valid")
	case errors.Is(err, connect.ErrNoAPI):
		writeProblem(w, http.StatusConflict, "no-api", "the connection's provider declares no API")
	case errors.Is(err, connect.ErrBadCredentials):
		writeProblem(w, http.StatusBadGateway, "bad-credentials", "the provider refused the connection's credentials")
	case errors.Is(err, connect.ErrStoreUnavailable):
		d.log.LogAttrs(r.Context(), slog.LevelError, "demo: call", slog.Any("error", err))
		writeProblem(w, http.StatusServiceUnavailable, "store-unavailable", "a store is unavailable; try again later")
	default:
		d.log.LogAttrs(r.Context(), slog.LevelWarn, "demo: call", slog.Any("error", err))
		writeProblem(w, http.StatusBadGateway, "provider-error", "the API could not be called")
	}
}
