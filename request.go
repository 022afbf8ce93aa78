package connect

import (
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/connectkit/connect/internal/syntax"
)

// OAuthConnectRequest asks for an authorize URL: the body of Ampersand's
// POST /v1/oauth-connect, with the options of Versori's oauth2/initialise.
type OAuthConnectRequest struct {
	// ProjectID is the project the connection belongs to.
	ProjectID string `json:"projectId" validate:"required,max=255,ident"`
	// Provider is the provider's name in the registry, e.g. "salesforce".
	Provider string `json:"provider" validate:"required,max=63,ident"`
	// GroupRef is the caller's id of the organisation or team the connection belongs to.
	GroupRef string `json:"groupRef" validate:"required,max=255,text"`
	// ConsumerRef is the caller's id of the user whose credential is used.
	ConsumerRef string `json:"consumerRef" validate:"required,max=255,text"`
	// GroupName is the group's display name; it defaults to GroupRef.
	GroupName string `json:"groupName,omitempty" validate:"omitempty,max=255,text"`
	// ConsumerName is the consumer's display name; it defaults to ConsumerRef.
	ConsumerName string `json:"consumerName,omitempty" validate:"omitempty,max=255,text"`
	// ProviderWorkspaceRef is the provider workspace, e.g. a Zendesk subdomain or a
	// Salesforce My Domain; it fills the provider's "workspace" input.
	ProviderWorkspaceRef string `json:"providerWorkspaceRef,omitempty" validate:"omitempty,max=253,text"`
	// ProviderMetadata are the other inputs the provider needs, e.g. NetSuite's accountId.
	ProviderMetadata ProviderMetadata `json:"providerMetadata,omitempty" validate:"omitempty,max=32,dive,keys,ident,max=64,endkeys"`
	// ProviderAppID picks the provider app; empty means the project's default app.
	ProviderAppID string `json:"providerAppId,omitempty" validate:"omitempty,max=255,ident"`
	// EnableCSRFProtection binds the flow to the browser that starts it: the returned
	// [Authorization] carries a Binding value that the callback must present.
	EnableCSRFProtection bool `json:"enableCSRFProtection,omitempty"`
	// Scopes are asked for besides the provider's and the app's default scopes.
	Scopes []string `json:"scopes,omitempty" validate:"omitempty,max=50"`
	// Prompt overrides the provider's default prompt (see [AuthorizeParams].Prompt).
	Prompt string `json:"prompt,omitempty" validate:"omitempty,max=256"`
	// AdditionalParams are extra authorize parameters, URL-encoded (see
	// [AuthorizeParams].AdditionalParams).
	AdditionalParams string `json:"additionalParams,omitempty" validate:"omitempty,max=65536"`
	// DisableOfflineAccess asks for no refresh token: neither offline_access nor the
	// provider's own refresh scope or parameter is added.
	DisableOfflineAccess bool `json:"disableOfflineAccess,omitempty"`
	// AuthorizeURL, when set (Versori's authorizeUrl), must be the provider's authorize URL
	// as the catalog renders it: the provider's workspace and other inputs in it are read
	// from it, and must agree with ProviderWorkspaceRef and ProviderMetadata where those
	// give them too. It can never point the flow at another URL.
	AuthorizeURL string `json:"authorizeUrl,omitempty" validate:"omitempty,max=2048"`
	// ClientID, when set (Versori's clientId), must be the client id of the provider app
	// the flow uses.
	ClientID string `json:"clientId,omitempty" validate:"omitempty,max=1024"`
}

// ProviderMetadata maps provider input names to values, in Ampersand's form:
// {"accountId": {"value": "1234567", "source": "input"}}.
type ProviderMetadata map[string]MetadataValue

// MetadataValue is one provider metadata value. In a request its Source is "input" (or
// empty, meaning input); connect itself records "token" for values read from a token
// response.
type MetadataValue struct {
	Value       string `json:"value" validate:"required,max=255"`
	Source      string `json:"source,omitempty" validate:"omitempty,oneof=input"`
	DisplayName string `json:"displayName,omitempty" validate:"max=255,text"`
}

// ConnectionRequest makes a connection from credentials the caller already has: the body of
// Ampersand's ConnectionRequest, plus projectId. Exactly one credential kind must be set.
type ConnectionRequest struct {
	ProjectID            string           `json:"projectId" validate:"required,max=255,ident"`
	Provider             string           `json:"provider" validate:"required,max=63,ident"`
	GroupRef             string           `json:"groupRef" validate:"required,max=255,text"`
	GroupName            string           `json:"groupName,omitempty" validate:"max=255,text"`
	ConsumerRef          string           `json:"consumerRef" validate:"required,max=255,text"`
	ConsumerName         string           `json:"consumerName,omitempty" validate:"max=255,text"`
	ProviderWorkspaceRef string           `json:"providerWorkspaceRef,omitempty" validate:"max=253,text"`
	ProviderMetadata     ProviderMetadata `json:"providerMetadata,omitempty" validate:"max=32,dive,keys,ident,max=64,endkeys"`

	// APIKey is an API key (at most 4 KiB, no control characters).
	APIKey Secret `json:"apiKey,omitempty" validate:"max=4096,secret"`
	// CustomAuth are the values of the provider's custom auth fields.
	CustomAuth map[string]Secret `json:"customAuth,omitempty" validate:"omitempty,min=1,max=32,dive,keys,fieldname,endkeys,required,max=4096,secret"`
	// BasicAuth is a username and password (RFC 7617).
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// OAuth2ClientCredentials is an OAuth client for the client credentials grant.
	OAuth2ClientCredentials *OAuth2ClientCredentials `json:"oauth2ClientCredentials,omitempty"`
	// OAuth2PasswordCredentials is a user's password for the password grant; the password is
	// used once and never stored.
	OAuth2PasswordCredentials *OAuth2PasswordCredentials `json:"oauth2PasswordCredentials,omitempty"`
	// OAuth2AuthorizationCode carries tokens obtained elsewhere, to import them.
	OAuth2AuthorizationCode *OAuth2AuthorizationCode `json:"oauth2AuthorizationCode,omitempty"`

	// Verify makes the provider's verification request with the credentials before the
	// connection is stored: a credential the provider refuses is not stored.
	Verify bool `json:"verify,omitempty"`
}

// BasicAuth is a username and password. The username may not contain a colon (RFC 7617 §2).
type BasicAuth struct {
	Username string `json:"username" validate:"required,max=256,text,excludes=:"`
	Password Secret `json:"password" validate:"required,max=1024,secret"`
}

// OAuth2ClientCredentials is an OAuth client for the client credentials grant (RFC 6749 §4.4).
type OAuth2ClientCredentials struct {
	ClientID     string   `json:"clientId" validate:"required,max=1024,text"`
	ClientSecret Secret   `json:"clientSecret" validate:"required,max=1024,secret"`
	Scopes       []string `json:"scopes,omitempty" validate:"max=50,dive,scope"`
}

// OAuth2PasswordCredentials is a user's password and the OAuth client for the resource
// owner password grant (RFC 6749 §4.3), allowed only for providers that declare it.
type OAuth2PasswordCredentials struct {
	Username     string   `json:"username" validate:"required,max=256,text"`
	Password     Secret   `json:"password" validate:"required,max=1024,secret"`
	ClientID     string   `json:"clientId" validate:"required,max=1024,text"`
	ClientSecret Secret   `json:"clientSecret" validate:"required,max=1024,secret"`
	Scopes       []string `json:"scopes,omitempty" validate:"max=50,dive,scope"`
}

// OAuth2AuthorizationCode carries tokens from an authorization code flow done elsewhere.
type OAuth2AuthorizationCode struct {
	AccessToken  *TokenValue `json:"accessToken,omitempty" validate:"required"`
	RefreshToken *TokenValue `json:"refreshToken,omitempty"`
	Scopes       []string    `json:"scopes,omitempty" validate:"max=50,dive,scope"`
}

// TokenValue is a token with its optional times.
type TokenValue struct {
	Token     Secret     `json:"token" validate:"required,max=16384,secret"`
	IssuedAt  *time.Time `json:"issuedAt,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Validate checks the request's fields. It returns nil or a *[ValidationError] listing every
// offending field by its JSON name.
func (r *OAuthConnectRequest) Validate() error { return validateStruct(r) }

// Validate checks the request's fields and that exactly one credential kind is set. It returns
// nil or a *[ValidationError] listing every offending field by its JSON name.
func (r *ConnectionRequest) Validate() error {
	err := validateStruct(r)
	kinds := r.credentialKinds()
	if len(kinds) == 1 {
		return err
	}
	msg := "exactly one of apiKey, basicAuth, customAuth, oauth2ClientCredentials, oauth2PasswordCredentials, oauth2AuthorizationCode must be set"
	if len(kinds) > 1 {
		msg = "only one credential kind may be set; got " + strings.Join(kinds, ", ")
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		ve = &ValidationError{}
	}
	ve.Fields = append(ve.Fields, FieldError{Field: "credentials", Message: msg})
	return ve
}

// credentialKinds lists the credential kinds set, by JSON name.
func (r *ConnectionRequest) credentialKinds() []string {
	var k []string
	if r.APIKey != "" {
		k = append(k, "apiKey")
	}
	if r.CustomAuth != nil {
		k = append(k, "customAuth")
	}
	if r.BasicAuth != nil {
		k = append(k, "basicAuth")
	}
	if r.OAuth2ClientCredentials != nil {
		k = append(k, "oauth2ClientCredentials")
	}
	if r.OAuth2PasswordCredentials != nil {
		k = append(k, "oauth2PasswordCredentials")
	}
	if r.OAuth2AuthorizationCode != nil {
		k = append(k, "oauth2AuthorizationCode")
	}
	return k
}

// validatorOnce builds the one validator the package uses; it holds no state a caller can
// change and caches struct descriptions safely for concurrent use.
var validatorOnce = sync.OnceValue(newValidator)

var (
	fieldNamePattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]{0,63}$`)
)

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(v.RegisterValidation("ident", func(fl validator.FieldLevel) bool {
		return syntax.Ident(fl.Field().String())
	}))
	// Values that may reach a header or a log line are text: no CR or LF in them.
	must(v.RegisterValidation("text", func(fl validator.FieldLevel) bool {
		return syntax.Text(fl.Field().String())
	}))
	must(v.RegisterValidation("secret", func(fl validator.FieldLevel) bool {
		return syntax.Text(fl.Field().String())
	}))
	must(v.RegisterValidation("fieldname", func(fl validator.FieldLevel) bool {
		return fieldNamePattern.MatchString(fl.Field().String())
	}))
	must(v.RegisterValidation("scope", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return len(s) <= maxScopeLen && syntax.ScopeToken(s)
	}))
	return v
}

func validateStruct(s any) error {
	err := validatorOnce().Struct(s)
	if err == nil {
		return nil
	}
	var errs validator.ValidationErrors
	if !errors.As(err, &errs) {
		return &ValidationError{Fields: []FieldError{{Field: "request", Message: "cannot be validated"}}}
	}
	ve := &ValidationError{Fields: make([]FieldError, 0, len(errs))}
	for _, fe := range errs {
		ve.Fields = append(ve.Fields, FieldError{Field: fieldPath(fe.Namespace()), Message: message(fe)})
	}
	return ve
}

// fieldPath turns a validator namespace such as "OAuthConnectRequest.providerMetadata[x].value"
// into "providerMetadata.x.value".
func fieldPath(ns string) string {
	_, path, ok := strings.Cut(ns, ".")
	if !ok {
		path = ns
	}
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	return path
}

func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "required"
	case "max":
		if fe.Kind() == reflect.String {
			return "at most " + fe.Param() + " octets"
		}
		return "at most " + fe.Param() + " entries"
	case "min":
		return "at least " + fe.Param() + " entries"
	case "ident":
		return "must be letters, digits and . _ : @ - (starting with a letter or digit)"
	case "text", "secret":
		return "must be UTF-8 text without control characters"
	case "fieldname":
		return "names must match " + fieldNamePattern.String()
	case "scope":
		return "must be one scope token (RFC 6749 §3.3) of at most " + strconv.Itoa(maxScopeLen) + " octets"
	case "oneof":
		return "must be one of: " + fe.Param()
	case "excludes":
		return "must not contain " + strconv.Quote(fe.Param())
	}
	return "is not valid (" + fe.Tag() + ")"
}
