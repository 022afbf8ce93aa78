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

// Error lists the offending fields by their JSON names, with what each must be.
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

// ProviderError is an error response from a provider (RFC 6749 §4.1.2.1 and §5.2), at the
// callback or at a token endpoint. connect cleans every field before keeping it, so that
// it is safe to log and to render in a page: none holds a secret of the request (the
// provider may have echoed one), and each keeps to the rule written beside it.
type ProviderError struct {
	Code        string `json:"error"`                       // e.g. access_denied; letters, digits, _ - . only; at most 64 octets
	Description string `json:"error_description,omitempty"` // printable ASCII without " \ < > & '; at most 512 octets
	URI         string `json:"error_uri,omitempty"`         // an absolute https URL, or empty
}

// Error returns the code and the description.
func (e *ProviderError) Error() string {
	s := "connect: provider error: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Is reports whether target is ErrAccessDenied and the code is access_denied.
func (e *ProviderError) Is(target error) bool {
	return target == ErrAccessDenied && e.Code == "access_denied"
}

// Errors of the callback. The malformed-callback errors also match [ErrInvalidRequest].
var (
	// ErrMalformedCallback is matched when the callback request is not a well-formed
	// authorization response; no store is touched.
	ErrMalformedCallback = errors.New("connect: malformed callback")
	// ErrInvalidState is matched when the state parameter is missing, repeated or not a
	// state token; no store is touched.
	ErrInvalidState = errors.New("connect: invalid state")
	// ErrStateNotFound is matched when no pending authorization has the state: it never
	// existed, it was used already, or the store dropped it on expiry.
	ErrStateNotFound = errors.New("connect: state not found or already used")
	// ErrStateExpired is matched when the pending authorization is past its time.
	ErrStateExpired = errors.New("connect: state expired")
	// ErrStateBindingMismatch is matched when a flow started with CSRF protection returns to
	// a browser that does not present its binding value.
	ErrStateBindingMismatch = errors.New("connect: the callback is not from the browser that started the flow")
	// ErrIssuerMismatch is matched when the iss parameter (RFC 9207) is not the provider's.
	ErrIssuerMismatch = errors.New("connect: issuer mismatch")
	// ErrAccessDenied is matched by a *ProviderError whose code is access_denied.
	ErrAccessDenied = errors.New("connect: access denied")
	// ErrExchangeFailed is matched when the token endpoint does not give a token.
	ErrExchangeFailed = errors.New("connect: token request failed")
	// ErrUnexpectedRedirect is matched when a token endpoint answers with a redirect, which
	// is never followed.
	ErrUnexpectedRedirect = errors.New("connect: the token endpoint answered with a redirect")
)

// ErrGrantNotAllowed is matched when a request uses a credential kind the provider does not
// accept, such as the password grant for a provider that does not declare it.
var ErrGrantNotAllowed = errors.New("connect: credential kind not accepted by the provider")

// Errors of connection stores.
var (
	// ErrConnectionNotFound is matched when no connection has the id in the project.
	ErrConnectionNotFound = errors.New("connect: connection not found")
	// ErrConflict is matched when a record changed since it was read (optimistic
	// concurrency): read it again and retry.
	ErrConflict = errors.New("connect: connection changed concurrently")
)

// ErrBadCredentials is matched when the provider refuses a connection's credentials for
// good (invalid_grant on refresh): the connection is marked bad_credentials and kept, and
// the user must connect again.
var ErrBadCredentials = errors.New("connect: the provider refused the connection's credentials")

// Errors of using a connection.
var (
	// ErrNoAPI is matched when the connection's provider API is not known for it: the
	// catalog declares no API or no verification request, or the API's base URL needs a
	// value the connection lacks. The credential then has nowhere it may be sent.
	ErrNoAPI = errors.New("connect: the provider's API is not known for the connection")
	// ErrForeignHost is matched when a request through [Connector.Client] is for a host
	// that is not one of the provider's API hosts: nothing is sent.
	ErrForeignHost = errors.New("connect: the request's host is not one of the provider's API hosts")
	// ErrVerifyFailed is matched when a verification request gets neither a success nor a
	// refusal of the credential (a 404, a 5xx, a redirect, a network failure): the
	// credential is neither known good nor known bad.
	ErrVerifyFailed = errors.New("connect: the verification request failed")
	// ErrRevocationFailed is matched by the Err of a deletion event whose revocation failed.
	ErrRevocationFailed = errors.New("connect: revoking the grant at the provider failed")
)

// ErrNotOAuth is matched when a token is asked of a connection that holds no OAuth tokens.
var ErrNotOAuth = errors.New("connect: the connection has no OAuth tokens")

var errCredentials = errors.New("connect: cannot read the stored credentials")

var errSessionRecord = errors.New("connect: malformed pending authorization record")
