package providers

import "errors"

// ErrUnknownInput is matched by the error for a value the provider does not take.
var ErrUnknownInput = errors.New("providers: not an input of this provider")
