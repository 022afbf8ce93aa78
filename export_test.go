package connect

// SessionFields decodes a session record for the external tests.
func SessionFields(rec []byte) (verifier, groupName, consumerName string, bindingHash []byte, err error) {
	s, err := unmarshalSession(rec)
	if err != nil {
		return "", "", "", nil, err
	}
	return s.Verifier, s.GroupName, s.ConsumerName, s.BindingHash, nil
}

// ValidateWithValidator runs validator/v10 on a request, without the fast path.
func ValidateWithValidator(r *OAuthConnectRequest) error { return validateStruct(r) }
