package connecthttp

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/connectkit/connect"
)

// problemBase is the prefix of the problem type URIs.
const problemBase = "https://connectkit.dev/problems/"

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []fieldProblem `json:"errors,omitempty"`
}

// fieldProblem is one offending field of a request.
type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// newProblem returns a problem of the given kind (a slug of problemBase) and status.
func newProblem(status int, slug, detail string, fields ...fieldProblem) *problem {
	return &problem{Type: problemBase + slug, Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields}
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// renamer maps a field name of connect's request to the name the caller used.
type renamer func(field string) string

// errorProblem maps an error of connect to a problem. Errors connect does not document are
// answered 500 with a generic detail, and logged.
func (h *handler) errorProblem(r *http.Request, err error, rename renamer) *problem {
	var ve *connect.ValidationError
	var pe *connect.ProviderError
	switch {
	case errors.Is(err, connect.ErrStoreUnavailable):
		h.logError(r, http.StatusServiceUnavailable, err)
		return newProblem(http.StatusServiceUnavailable, "store-unavailable", "a store is unavailable; try again later")
	case errors.Is(err, connect.ErrExchangeFailed), errors.Is(err, connect.ErrUnexpectedRedirect):
		h.logError(r, http.StatusBadGateway, err)
		detail := "the provider did not give a token"
		if errors.As(err, &pe) {
			detail = "the provider answered " + pe.Code
		}
		return newProblem(http.StatusBadGateway, "provider-error", detail)
	case errors.Is(err, connect.ErrRandom):
		h.logError(r, http.StatusInternalServerError, err)
		return newProblem(http.StatusInternalServerError, "internal-error", "the request could not be completed")
	case errors.As(err, &ve):
		slug := "invalid-request"
		switch {
		case errors.Is(err, connect.ErrUnknownProvider):
			slug = "unknown-provider"
		case errors.Is(err, connect.ErrAppNotFound):
			slug = "unknown-provider-app"
		}
		fields := make([]fieldProblem, 0, len(ve.Fields))
		for _, f := range ve.Fields {
			name := f.Field
			if rename != nil {
				name = rename(name)
			}
			fields = appendField(fields, fieldProblem{Field: name, Message: f.Message})
		}
		return invalidFields(slug, fields)
	case errors.Is(err, connect.ErrInvalidRequest):
		return newProblem(http.StatusBadRequest, "invalid-request", "the request is not valid")
	case errors.Is(err, connect.ErrConnectionNotFound):
		return newProblem(http.StatusNotFound, "not-found", "no such connection in the project")
	case errors.Is(err, connect.ErrConflict):
		return newProblem(http.StatusConflict, "conflict", "the connection changed concurrently; try again")
	case errors.Is(err, connect.ErrBadCredentials):
		return newProblem(http.StatusUnprocessableEntity, "bad-credentials", "the provider refused the credentials")
	case errors.Is(err, connect.ErrNoAPI):
		return newProblem(http.StatusUnprocessableEntity, "no-api", "the provider's API is not known for the connection")
	case errors.Is(err, connect.ErrVerifyFailed):
		h.logError(r, http.StatusBadGateway, err)
		return newProblem(http.StatusBadGateway, "provider-error", "the verification request failed")
	case errors.As(err, &pe):
		h.logError(r, http.StatusBadGateway, err)
		return newProblem(http.StatusBadGateway, "provider-error", "the provider answered "+pe.Code)
	}
	h.logError(r, http.StatusInternalServerError, err)
	return newProblem(http.StatusInternalServerError, "internal-error", "the request could not be completed")
}

// invalidFields returns a 400 problem listing fields.
func invalidFields(slug string, fields []fieldProblem) *problem {
	detail := "1 field is invalid"
	if len(fields) != 1 {
		detail = strconv.Itoa(len(fields)) + " fields are invalid"
	}
	return newProblem(http.StatusBadRequest, slug, detail, fields...)
}

// appendField appends f unless a problem with the same field and message is there.
func appendField(fields []fieldProblem, f fieldProblem) []fieldProblem {
	for _, g := range fields {
		if g == f {
			return fields
		}
	}
	return append(fields, f)
}

// logError logs an error answered with a 5xx status; the errors of connect carry no secret.
func (h *handler) logError(r *http.Request, status int, err error) {
	h.log.LogAttrs(r.Context(), slog.LevelError, "connecthttp: request failed",
		slog.String("route", r.Pattern), slog.Int("status", status), slog.Any("error", err))
}
