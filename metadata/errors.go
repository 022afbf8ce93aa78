package metadata

import (
	"errors"
	"strings"
)

// ErrInvalidValue is matched (with errors.Is) by every error about a metadata value.
var ErrInvalidValue = errors.New("metadata: invalid value")

// ErrMissing is matched (with errors.Is) by the error for a required input left empty.
var ErrMissing = errors.New("metadata: value required")

// ErrNoMatch is matched by the error of [Template.Match] for a URL the template cannot render.
var ErrNoMatch = errors.New("metadata: the URL is not one the template renders")

// ValueError reports a value that failed its input's rule. It names the input, never the
// value.
type ValueError struct {
	Input string // the input's name
	Err   error  // ErrMissing or an error matching ErrInvalidValue
}

// Error names the input and what is wrong with its value.
func (e *ValueError) Error() string { return "metadata: " + e.Input + ": " + trimPrefix(e.Err.Error()) }

// Unwrap returns the cause.
func (e *ValueError) Unwrap() error { return e.Err }

func trimPrefix(s string) string { return strings.TrimPrefix(s, "metadata: ") }
