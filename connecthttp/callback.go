package connecthttp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/connectkit/connect"
)

// The codes a failed callback is reported by.
const (
	codeAccessDenied     = "access_denied"
	codeInvalidState     = "invalid_state"
	codeExpired          = "expired"
	codeStoreUnavailable = "store_unavailable"
	codeExchangeFailed   = "exchange_failed"
	codeInvalidRequest   = "invalid_request"
	codeServerError      = "server_error"
)

// pageCSP is the Content-Security-Policy of the callback's pages without a script.
const pageCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// result is the outcome of a callback, as the ending tells it.
type result struct {
	ok           bool
	connectionID string
	provider     string
	code         string // one of the codes above when !ok
}

// callback serves GET /callbacks/v1/oauth, the provider's redirect.
func (h *handler) callback(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	// The flow's binding is good for one callback, whatever its outcome; other flows'
	// cookies are left alone.
	var opts []connect.CallbackOption
	if st := r.URL.Query()["state"]; len(st) == 1 {
		name := connect.BindingCookieName(st[0])
		http.SetCookie(w, &http.Cookie{
			Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
		})
		if ck, err := r.Cookie(name); err == nil {
			opts = append(opts, connect.WithBinding(ck.Value))
		}
	}
	conn, err := h.c.Callback(r.Context(), r, opts...)
	res := result{ok: err == nil}
	if err != nil {
		res.code = callbackCode(err)
		level := slog.LevelDebug
		switch res.code {
		case codeServerError, codeStoreUnavailable:
			level = slog.LevelError
		case codeExchangeFailed:
			level = slog.LevelWarn
		}
		h.log.LogAttrs(r.Context(), level, "connecthttp: callback failed", slog.String("result", res.code), slog.Any("error", err))
	} else {
		res.connectionID, res.provider = conn.ID, conn.Provider
	}
	h.ending.end(w, res)
}

// callbackCode maps an error of connect.Connector.Callback to a result code.
func callbackCode(err error) string {
	var pe *connect.ProviderError
	switch {
	case errors.Is(err, connect.ErrAccessDenied):
		return codeAccessDenied
	case errors.Is(err, connect.ErrStateExpired):
		return codeExpired
	case errors.Is(err, connect.ErrInvalidState), errors.Is(err, connect.ErrStateNotFound),
		errors.Is(err, connect.ErrStateBindingMismatch), errors.Is(err, connect.ErrIssuerMismatch):
		return codeInvalidState
	case errors.Is(err, connect.ErrStoreUnavailable):
		return codeStoreUnavailable
	case errors.Is(err, connect.ErrExchangeFailed), errors.Is(err, connect.ErrUnexpectedRedirect), errors.As(err, &pe):
		return codeExchangeFailed
	case errors.Is(err, connect.ErrAppNotFound):
		return codeServerError // the flow's app went away meanwhile: not the browser's fault
	case errors.Is(err, connect.ErrMalformedCallback), errors.Is(err, connect.ErrInvalidRequest):
		return codeInvalidRequest
	}
	return codeServerError
}

// pageStatus is the status of a page that reports a result.
func pageStatus(res result) int {
	switch res.code {
	case "":
		return http.StatusOK
	case codeAccessDenied:
		return http.StatusForbidden
	case codeExchangeFailed:
		return http.StatusBadGateway
	case codeStoreUnavailable:
		return http.StatusServiceUnavailable
	case codeServerError:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// ending writes the end of a callback; the security headers are set already.
type ending interface {
	end(w http.ResponseWriter, res result)
}

// redirectEnding redirects to the configured success or failure URL.
type redirectEnding struct{ success, failure string }

func (e *redirectEnding) end(w http.ResponseWriter, res result) {
	var loc string
	if res.ok {
		loc = addQuery(e.success, "connectionId="+url.QueryEscape(res.connectionID)+"&provider="+url.QueryEscape(res.provider))
	} else {
		loc = addQuery(e.failure, "error="+res.code)
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusSeeOther)
}

// addQuery appends an encoded query to u, which has no fragment.
func addQuery(u, q string) string {
	switch {
	case !strings.Contains(u, "?"):
		return u + "?" + q
	case strings.HasSuffix(u, "?"), strings.HasSuffix(u, "&"):
		return u + q
	}
	return u + "&" + q
}

// plainEnding writes a minimal page.
type plainEnding struct{}

func (plainEnding) end(w http.ResponseWriter, res result) {
	title, text := pageText(res)
	w.Header().Set("Content-Security-Policy", pageCSP)
	writePage(w, pageStatus(res), title, text, "")
}

// pageText returns the title and text of a page reporting res; the code is one of a fixed set.
func pageText(res result) (title, text string) {
	if res.ok {
		return "Connected", "Connected. You can close this window."
	}
	return "Connection failed", "Connection failed (" + res.code + "). You can close this window."
}

// writePage writes a small HTML page; title, text and extra are trusted markup.
func writePage(w http.ResponseWriter, status int, title, text, extra string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title +
		"</title></head>\n<body><p>" + text + "</p>\n" + extra + "</body></html>\n"))
}

// popupEnding writes a page whose script posts the result to the opener window.
type popupEnding struct {
	script string // the page's one script, allowed by its hash
	csp    string
}

// resultElement is the id of the element holding the result as JSON.
const resultElement = "connect-result"

func newPopupEnding(origin string) *popupEnding {
	target, _ := json.Marshal(origin) // a checked origin: ASCII without quotes or backslashes
	script := `(function(){var r=JSON.parse(document.getElementById("` + resultElement + `").textContent);` +
		`if(window.opener){window.opener.postMessage(r,` + string(target) + `);}window.close();})();`
	sum := sha256.Sum256([]byte(script))
	return &popupEnding{
		script: script,
		csp: "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	}
}

// popupMessage is what the popup posts to its opener.
type popupMessage struct {
	Type         string `json:"type"`
	OK           bool   `json:"ok"`
	ConnectionID string `json:"connectionId,omitempty"`
	Provider     string `json:"provider,omitempty"`
	Error        string `json:"error,omitempty"`
}

func (e *popupEnding) end(w http.ResponseWriter, res result) {
	// json.Marshal escapes < > & and U+2028/9, so the JSON cannot end the element early.
	msg, _ := json.Marshal(popupMessage{
		Type: "connect:result", OK: res.ok, ConnectionID: res.connectionID, Provider: res.provider, Error: res.code,
	})
	title, text := pageText(res)
	w.Header().Set("Content-Security-Policy", e.csp)
	writePage(w, pageStatus(res), title, text,
		`<script type="application/json" id="`+resultElement+`">`+string(msg)+"</script>\n<script>"+e.script+"</script>\n")
}
