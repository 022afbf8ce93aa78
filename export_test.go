package connect

import "github.com/connectkit/connect/keyring"

// SessionFields decodes a session record for the external tests.
func SessionFields(rec []byte) (verifier, groupName, consumerName string, bindingHash []byte, err error) {
	s, err := unmarshalSession(rec)
	if err != nil {
		return "", "", "", nil, err
	}
	return s.Verifier, s.GroupName, s.ConsumerName, s.BindingHash, nil
}

// OpenCredentials returns the plaintext of a record's sealed credentials, for the external
// tests to see the format they were sealed in.
func OpenCredentials(keys *keyring.Keyring, rec *ConnectionRecord) ([]byte, error) {
	if len(rec.Credentials) == 0 || rec.Credentials[0] != credentialsSealed {
		return nil, errCredentials
	}
	return keys.Open(rec.Credentials[1:], credentialsAAD(&rec.Connection))
}
