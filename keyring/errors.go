package keyring

import "errors"

// Sentinel errors. Every error [Keyring.Open] returns matches exactly one of
// them with errors.Is, and none of them carries key material or plaintext.
var (
	// ErrDecrypt is matched when a sealed value cannot be opened: it was
	// sealed under another aad or another key, it was altered or truncated,
	// or it is not in a format this package knows. [KeyID] matches it too
	// for a value it cannot parse.
	ErrDecrypt = errors.New("keyring: cannot decrypt")
	// ErrUnknownKey is matched when a sealed value names a key id the
	// keyring does not hold, for example a key removed after rotation.
	ErrUnknownKey = errors.New("keyring: unknown key id")
)
