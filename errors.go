package connect

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error about a caller's input matches [ErrInvalidRequest] with
// errors.Is; the more specific sentinels below match too where they apply.
var (
	// ErrInvalidRequest is matched by every error about the caller's input.
	ErrInvalidRequest = errors.New("connect: invalid request")
	// ErrReservedParam is matched when additionalParams names a parameter that connect sets
	// itself or that the authorize URL already carries.
	ErrReservedParam = errors.New("connect: reserved parameter")
	// ErrInvalidPrompt is matched by errors about the prompt parameter.
	ErrInvalidPrompt = errors.New("connect: invalid prompt")
	// ErrUnknownProvider is matched when a request names a provider the registry lacks.
	ErrUnknownProvider = errors.New("connect: unknown provider")
	// ErrAppNotFound is matched when no provider app fits a request.
	ErrAppNotFound = errors.New("connect: provider app not found")
	// ErrStoreUnavailable is matched when a store fails; connect then fails closed.
	ErrStoreUnavailable = errors.New("connect: store unavailable")
	// ErrRandom is matched when the random source fails; no state or verifier is made.
	ErrRandom = errors.New("connect: random source failed")
)

// FieldError is one offending field of a request.
type FieldError struct {
	// Field is the field's JSON name, with a path for nested fields, e.g. "groupRef",
	// "scopes[2]", "providerMetadata.accountId", "additionalParams.state".
	Field string `json:"field"`
	// Message says what is wrong, without repeating the value.
	Message string `json:"message"`
	// Err is a sentinel the field error matches besides ErrInvalidRequest, or nil.
	Err error `json:"-"`
}

// ValidationError reports the offending fields of a request. It matches
// [ErrInvalidRequest] and each field's own sentinel with errors.Is. Its message names fields
// and never repeats their values.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("connect: invalid request: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// Is reports whether target is ErrInvalidRequest.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// Unwrap returns the sentinels of the fields.
func (e *ValidationError) Unwrap() []error {
	var errs []error
	for _, f := range e.Fields {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// invalid returns a ValidationError for one field.
func invalid(field, message string, sentinel error) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: message, Err: sentinel}}}
}

// ProviderError is an error response from a provider (RFC 6749 §4.1.2.1 and §5.2).
type ProviderError struct {
	Code        string `json:"error"`                       // e.g. access_denied
	Description string `json:"error_description,omitempty"` // cleaned and capped
	URI         string `json:"error_uri,omitempty"`         // absolute https only
}

func (e *ProviderError) Error() string {
	s := "connect: provider error: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}
