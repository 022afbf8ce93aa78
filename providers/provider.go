// Package providers describes SaaS providers as data: their OAuth endpoints as URL templates,
// the inputs those templates need, and the rules that differ from provider to provider (how
// refresh tokens are granted, PKCE, prompt, fixed parameters, client authentication, the
// credential kinds accepted). A [Registry] holds providers by name; [Default] returns the
// catalog embedded in this package.
package providers

import (
	"fmt"
	"iter"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/connectkit/connect/internal/syntax"
	"github.com/connectkit/connect/metadata"
)

// PKCE says whether a provider takes RFC 7636 PKCE. S256 is the only method ever sent.
type PKCE string

// The PKCE rules. The zero value means Supported.
const (
	PKCESupported   PKCE = "supported"   // sent; the provider accepts it
	PKCERequired    PKCE = "required"    // sent; the provider refuses a flow without it
	PKCEUnsupported PKCE = "unsupported" // never sent: the provider rejects the parameters
)

// RefreshBy says how a provider is asked for a refresh token.
type RefreshBy string

// The ways of asking for a refresh token. The zero value means RefreshByOfflineAccess.
const (
	RefreshByOfflineAccess RefreshBy = "offlineAccess" // the OpenID Connect offline_access scope
	RefreshByScope         RefreshBy = "scope"         // a scope of the provider's own (Scope)
	RefreshByParam         RefreshBy = "param"         // an authorize parameter (Param=Value)
	RefreshByDefault       RefreshBy = "always"        // granted without asking
	RefreshByNone          RefreshBy = "none"          // never granted
	RefreshByApproval      RefreshBy = "approval"      // granted without asking, to apps the provider approved
)

// Category is the kind of product a provider is, for counting and browsing the catalog.
type Category string

// The categories. The zero value means uncategorized, which only a caller's own provider may be.
const (
	CategoryCRM           Category = "crm"           // CRM and sales tools
	CategorySupport       Category = "support"       // customer support, help desks and IT service desks
	CategoryProductivity  Category = "productivity"  // docs, notes, project management, forms, scheduling, design, e-signature
	CategoryDevTools      Category = "devtools"      // code hosting, CI, cloud hosting, monitoring, AI APIs
	CategoryAccounting    Category = "accounting"    // accounting, ERP, billing and payments
	CategoryHR            Category = "hr"            // HR, recruiting and payroll
	CategoryMarketing     Category = "marketing"     // email marketing, marketing automation, websites and CMS
	CategoryCommerce      Category = "commerce"      // online stores, marketplaces and point of sale
	CategoryCommunication Category = "communication" // chat, email, video and telephony
	CategoryIdentity      Category = "identity"      // identity providers and sign-in
	CategoryStorage       Category = "storage"       // file storage and sharing
	CategoryAnalytics     Category = "analytics"     // product analytics, customer data and data warehouses
	CategorySocial        Category = "social"        // social networks and media platforms
	CategoryOther         Category = "other"         // none of the above
)

// categories are the known categories, in the order [Categories] returns them.
var categories = [...]Category{
	CategoryCRM, CategorySupport, CategoryProductivity, CategoryDevTools, CategoryAccounting,
	CategoryHR, CategoryMarketing, CategoryCommerce, CategoryCommunication, CategoryIdentity,
	CategoryStorage, CategoryAnalytics, CategorySocial, CategoryOther,
}

// Categories returns the known categories, CategoryOther last. The slice is the caller's own.
func Categories() []Category { return slices.Clone(categories[:]) }

// Refresh is a provider's way of granting refresh tokens.
type Refresh struct {
	By    RefreshBy `json:"by,omitempty"`
	Scope string    `json:"scope,omitempty"` // for RefreshByScope, e.g. Salesforce's refresh_token
	Param string    `json:"param,omitempty"` // for RefreshByParam, e.g. Google's access_type
	Value string    `json:"value,omitempty"` // for RefreshByParam, e.g. offline
}

// TokenAuth is how the client authenticates at the token endpoint (RFC 6749 §2.3.1).
type TokenAuth string

// The client authentication styles. The zero value means TokenAuthBasic.
const (
	TokenAuthBasic  TokenAuth = "basic"  // HTTP Basic with the form-urlencoded id and secret
	TokenAuthParams TokenAuth = "params" // client_id and client_secret in the request body
)

// AuthKind is a way of making a connection, named as in the ConnectionRequest fields.
type AuthKind string

// The credential kinds a provider may accept.
const (
	OAuth2AuthorizationCode   AuthKind = "oauth2AuthorizationCode"
	OAuth2ClientCredentials   AuthKind = "oauth2ClientCredentials"
	OAuth2PasswordCredentials AuthKind = "oauth2PasswordCredentials"
	APIKey                    AuthKind = "apiKey"
	BasicAuth                 AuthKind = "basicAuth"
	CustomAuth                AuthKind = "customAuth"
)

// TokenField is a value read from the token response and kept with the connection, such as
// Salesforce's instance_url.
type TokenField struct {
	Field string `json:"field"`           // the key in the token response
	Name  string `json:"name"`            // the providerMetadata name it is stored under
	URL   bool   `json:"url,omitempty"`   // the value is a URL whose host must be an allowed host
	Input string `json:"input,omitempty"` // optional: the input whose value it replaces
}

// Field is one field of a provider's custom authentication (ConnectionRequest.customAuth).
type Field struct {
	Name        string `json:"name"` // ^[a-z][a-zA-Z0-9_]{0,63}$
	DisplayName string `json:"displayName,omitempty"`
	Optional    bool   `json:"optional,omitempty"`
	Secret      bool   `json:"secret,omitempty"`
	Pattern     string `json:"pattern,omitempty"`   // the value must match it in full
	MaxLength   int    `json:"maxLength,omitempty"` // 0 means 4096
}

// Provider describes one provider. A provider registered with only Name, AuthURL and TokenURL
// gets the safe defaults: PKCE S256 sent, offline_access asked for refresh tokens, prompt
// login, space-separated scopes, HTTP Basic client authentication, no inputs.
type Provider struct {
	// Name is the key requests use, e.g. "salesforce": ^[a-z0-9][a-z0-9-]{0,62}$.
	Name string `json:"name"`
	// DisplayName is the provider's name for people, e.g. "Salesforce".
	DisplayName string `json:"displayName,omitempty"`
	// Category is the kind of product the provider is, one of [Categories]; "" means
	// uncategorized. Every built-in provider has one.
	Category Category `json:"category,omitempty"`
	// Docs is the documentation URL this entry's facts come from.
	Docs string `json:"docs,omitempty"`

	// AuthURL and TokenURL are the endpoints, as URL templates with {{input}} placeholders.
	AuthURL  string `json:"authURL,omitempty"`
	TokenURL string `json:"tokenURL,omitempty"`
	// DefaultAuthURL and DefaultTokenURL, when set, are used instead of AuthURL and TokenURL
	// when an optional input those templates need is absent and has no default; e.g.
	// login.salesforce.com when no My Domain is given.
	DefaultAuthURL  string `json:"defaultAuthURL,omitempty"`
	DefaultTokenURL string `json:"defaultTokenURL,omitempty"`
	// RefreshURL, when set, is where refresh tokens are redeemed instead of TokenURL (e.g.
	// Figma's /v1/oauth/refresh): a template like TokenURL, fixed with the connection as the
	// token URL is. It may use no optional input without a default.
	RefreshURL string `json:"refreshURL,omitempty"`
	// Hosts are the hosts the provider's URLs, and URLs it returns, may point at. It may be
	// empty when no template has a placeholder in its host.
	Hosts metadata.Hosts `json:"hosts,omitempty"`
	// Inputs are the values the templates and the connection need. The input named
	// "workspace" comes from providerWorkspaceRef, the others from providerMetadata.
	Inputs []metadata.Input `json:"inputs,omitempty"`
	// Issuer, when set, is the RFC 9207 issuer the callback's iss parameter must equal.
	Issuer string `json:"issuer,omitempty"`

	// ScopeSeparator joins scopes; "" means a space.
	ScopeSeparator string `json:"scopeSeparator,omitempty"`
	// DefaultScopes are asked for before the app's and the request's scopes.
	DefaultScopes []string `json:"defaultScopes,omitempty"`
	// PKCE says whether PKCE is sent; "" means PKCESupported.
	PKCE PKCE `json:"pkce,omitempty"`
	// Refresh is how refresh tokens are asked for.
	Refresh Refresh `json:"refresh,omitzero"`
	// Prompt is the prompt sent when a request gives none; "" means login.
	Prompt string `json:"prompt,omitempty"`
	// NoPrompt sends no prompt parameter unless a request gives one.
	NoPrompt bool `json:"noPrompt,omitempty"`
	// AuthParams are fixed authorize parameters, e.g. Atlassian's audience. None may be a
	// parameter the builder sets itself (see [Reserved]). A value may instead be one
	// placeholder, {{input}}, of a declared input of a kind a URL may carry, e.g. Amazon
	// Selling Partner's application_id: the parameter carries the input's value, and is left
	// out when the input has none (see [Provider.AuthorizeParams]).
	AuthParams map[string]string `json:"authParams,omitempty"`
	// TokenParams are fixed parameters added to the authorization code exchange, e.g.
	// Shopify's expiring=1, which asks for an expiring token and a refresh token. None may be
	// a parameter of the token request itself (see [ReservedTokenParam]).
	TokenParams map[string]string `json:"tokenParams,omitempty"`
	// TokenAuth is the client authentication at the token endpoint; "" means TokenAuthBasic.
	TokenAuth TokenAuth `json:"tokenAuth,omitempty"`
	// ClientIDParam names the parameter the client id goes under in the authorize, token and
	// revocation requests when it is not client_id, e.g. TikTok's client_key. It needs
	// TokenAuthParams.
	ClientIDParam string `json:"clientIDParam,omitempty"`
	// TokenMetadata are values read from the token response.
	TokenMetadata []TokenField `json:"tokenMetadata,omitempty"`
	// CallbackInputs are inputs whose values the provider gives in the authorization
	// response, as query parameters of the same name, e.g. QuickBooks' realmId: each is
	// checked against its input's rule and kept with the connection.
	CallbackInputs []string `json:"callbackInputs,omitempty"`
	// CodeParam names the authorization response parameter that carries the code when it is
	// not code, e.g. Amazon Selling Partner's spapi_oauth_code; it is one of [CodeParams].
	CodeParam string `json:"codeParam,omitempty"`
	// AuthKinds are the credential kinds accepted; empty means OAuth2AuthorizationCode when
	// AuthURL is set.
	AuthKinds []AuthKind `json:"authKinds,omitempty"`
	// CustomAuth is the schema of the customAuth fields, for providers accepting CustomAuth.
	CustomAuth []Field `json:"customAuth,omitempty"`

	// API is where the provider's API is, how each credential kind is sent to it, and how a
	// credential is verified; nil when the entry does not say.
	API *API `json:"api,omitempty"`
	// RevocationURL, when set, is the RFC 7009 token revocation endpoint (or the provider's
	// own, see RevocationStyle), a template like TokenURL that may use no optional input
	// without a default: DeleteConnection revokes there first, best effort.
	RevocationURL string `json:"revocationURL,omitempty"`
	// RevocationStyle is how RevocationURL is called; "" means RevokeRFC7009.
	RevocationStyle RevocationStyle `json:"revocationStyle,omitempty"`
	// RevocationDocs is the documentation of the revocation endpoint.
	RevocationDocs string `json:"revocationDocs,omitempty"`

	authURL, tokenURL, defaultAuthURL, defaultTokenURL, refreshURL, revocationURL *metadata.Template
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// reserved are the authorize parameters the builder sets, or must never be set from outside.
var reserved = [...]string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "prompt",
	"code_challenge", "code_challenge_method", "nonce", "request", "request_uri",
	"response_mode", "code_verifier", "client_secret", "client_assertion",
	"client_assertion_type", "grant_type", "code",
}

// Reserved reports whether param, once normalised by [NormalizeParam], is an authorize
// parameter that only the builder may set: response_type, client_id, redirect_uri, scope,
// state, prompt, code_challenge, code_challenge_method, and the parameters that would change
// the flow or carry secrets (nonce, request, request_uri, response_mode, code, code_verifier,
// client_secret, client_assertion, client_assertion_type, grant_type).
func Reserved(param string) bool {
	return slices.Contains(reserved[:], NormalizeParam(param))
}

// NormalizeParam returns the name under which a lenient server may read the parameter name,
// given as it is once decoded from a query: what it reads up to a NUL, without surrounding
// white space and control characters, in lower case (some servers ignore case), with a
// "[...]" suffix dropped and every space, ".", "[" and control character inside written as
// "_" (PHP reads "redirect.uri", "redirect uri", "redirect[uri" and "redirect_uri[]" all as
// redirect_uri, and keeps the last value). Two names that normalise alike are one parameter.
func NormalizeParam(name string) string {
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	if i := strings.IndexByte(name, '['); i >= 0 && strings.IndexByte(name[i:], ']') >= 0 {
		name = name[:i]
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '[' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return '_'
		}
		return unicode.ToLower(unicode.ToUpper(r))
	}, name)
}

// codeParams are the names other than code a provider may give the authorization code
// under. The list is closed so that a callback's shape is checked before its flow, and so its
// provider, is known.
var codeParams = [...]string{"spapi_oauth_code"}

// CodeParams yields the names other than code that [Provider.CodeParam] may take.
func CodeParams() iter.Seq[string] { return slices.Values(codeParams[:]) }

// responseParams are the parameters of an authorization response other than the code.
var responseParams = [...]string{"state", "iss", "error", "error_description", "error_uri"}

// reservedToken are the token request parameters that only the OAuth exchange itself sets.
var reservedToken = [...]string{
	"grant_type", "code", "redirect_uri", "client_id", "client_secret", "code_verifier",
	"refresh_token", "scope", "username", "password", "assertion", "client_assertion",
	"client_assertion_type", "state",
}

// ReservedTokenParam reports whether param, once normalised by [NormalizeParam], is a
// parameter of the token request that a provider's fixed token parameters may not set.
func ReservedTokenParam(param string) bool {
	return slices.Contains(reservedToken[:], NormalizeParam(param))
}

// Prepare checks the provider and makes it ready for use; [Registry.Register] calls it. It
// fails when a URL does not parse or is not https, a placeholder is not a declared input, a
// fixed parameter is reserved, or a rule or the category has an unknown value.
func (p *Provider) Prepare() error {
	if err := p.prepare(); err != nil {
		return fmt.Errorf("providers: %s: %w", p.Name, err)
	}
	return nil
}

func (p *Provider) prepare() error {
	for _, step := range []func() error{
		p.checkNames, p.compileInputs, p.parseEndpoints, p.checkScopes, p.checkRefresh,
		p.checkPrompt, p.checkParams, p.checkTokenMetadata, p.checkAuthKinds, p.checkAPI,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// checkNames checks the provider's name, category and documentation link.
func (p *Provider) checkNames() error {
	if !providerName.MatchString(p.Name) {
		return fmt.Errorf("name must match %s", providerName)
	}
	if p.Category != "" && !slices.Contains(categories[:], p.Category) {
		return fmt.Errorf("category %q is unknown", p.Category)
	}
	return checkDocs("docs", p.Docs)
}

// compileInputs compiles each metadata input and refuses a name declared twice.
func (p *Provider) compileInputs() error {
	seen := map[string]bool{}
	for i := range p.Inputs {
		in := &p.Inputs[i]
		if err := in.Compile(); err != nil {
			return err
		}
		if seen[in.Name] {
			return fmt.Errorf("input %s declared twice", in.Name)
		}
		seen[in.Name] = true
	}
	return nil
}

// parseEndpoints parses the URL templates, which need each other as the grant kinds say, and
// checks the issuer.
func (p *Provider) parseEndpoints() error {
	if p.AuthURL == "" && p.TokenURL != "" && !slices.Contains(p.AuthKinds, OAuth2ClientCredentials) &&
		!slices.Contains(p.AuthKinds, OAuth2PasswordCredentials) {
		return fmt.Errorf("tokenURL without authURL needs a client or password credentials kind")
	}
	if p.AuthURL != "" && p.TokenURL == "" {
		return fmt.Errorf("authURL needs a tokenURL")
	}
	for _, t := range []struct {
		name string
		src  string
		dst  **metadata.Template
	}{
		{"authURL", p.AuthURL, &p.authURL},
		{"tokenURL", p.TokenURL, &p.tokenURL},
		{"defaultAuthURL", p.DefaultAuthURL, &p.defaultAuthURL},
		{"defaultTokenURL", p.DefaultTokenURL, &p.defaultTokenURL},
		{"refreshURL", p.RefreshURL, &p.refreshURL},
	} {
		*t.dst = nil
		if t.src == "" {
			continue
		}
		var err error
		if *t.dst, err = metadata.ParseTemplate(t.src, p.Inputs, p.Hosts); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	if (p.DefaultAuthURL != "" && p.AuthURL == "") || (p.DefaultTokenURL != "" && p.TokenURL == "") ||
		(p.RefreshURL != "" && p.TokenURL == "") {
		return fmt.Errorf("a default or refresh URL needs the URL it stands in for")
	}
	for _, d := range []*metadata.Template{p.defaultAuthURL, p.defaultTokenURL, p.refreshURL} {
		if d == nil {
			continue
		}
		for _, name := range d.Placeholders() {
			if in := p.input(name); in.Optional && in.Default == "" {
				return fmt.Errorf("%s uses the optional input %s, which has no default", d, name)
			}
		}
	}
	if p.Issuer != "" {
		u, err := url.Parse(p.Issuer)
		if err != nil || syntax.CheckURL(u) != nil || u.RawQuery != "" {
			return fmt.Errorf("issuer %q must be an https URL without query or fragment", p.Issuer)
		}
	}
	return nil
}

// checkScopes checks the scope separator, the default scopes and the PKCE rule.
func (p *Provider) checkScopes() error {
	switch p.ScopeSeparator {
	case "", " ", ",", "+":
	default:
		return fmt.Errorf("scopeSeparator %q must be a space, a comma or +", p.ScopeSeparator)
	}
	for _, s := range p.DefaultScopes {
		if !syntax.ScopeToken(s) || strings.Contains(s, p.scopeSeparator()) {
			return fmt.Errorf("default scope %q is not a scope token (RFC 6749 §3.3)", s)
		}
	}
	switch p.PKCE {
	case "", PKCESupported, PKCERequired, PKCEUnsupported:
	default:
		return fmt.Errorf("pkce %q must be supported, required or unsupported (S256 is the only method)", p.PKCE)
	}
	return nil
}

// checkRefresh checks how the provider grants refresh tokens.
func (p *Provider) checkRefresh() error {
	switch p.Refresh.By {
	case "", RefreshByOfflineAccess, RefreshByDefault, RefreshByNone, RefreshByApproval:
		if p.Refresh.Scope != "" || p.Refresh.Param != "" || p.Refresh.Value != "" {
			return fmt.Errorf("refresh by %q takes no scope, param or value", p.Refresh.By)
		}
	case RefreshByScope:
		if !syntax.ScopeToken(p.Refresh.Scope) || strings.Contains(p.Refresh.Scope, p.scopeSeparator()) ||
			p.Refresh.Param != "" || p.Refresh.Value != "" {
			return fmt.Errorf("refresh by scope needs a scope token and nothing else")
		}
	case RefreshByParam:
		if p.Refresh.Param == "" || p.Refresh.Value == "" || p.Refresh.Scope != "" {
			return fmt.Errorf("refresh by param needs param and value")
		}
		// The same rule as for authParams: " state" or "state\x00" must not slip past Reserved.
		if !fixedParam(p.Refresh.Param, p.Refresh.Value) {
			return fmt.Errorf("refresh param must be a plain parameter with printable value")
		}
		if Reserved(p.Refresh.Param) {
			return fmt.Errorf("refresh param %s is reserved", p.Refresh.Param)
		}
	default:
		return fmt.Errorf("refresh by %q is unknown", p.Refresh.By)
	}
	return nil
}

// checkPrompt checks the default prompt.
func (p *Provider) checkPrompt() error {
	if p.Prompt != "" && p.NoPrompt {
		return fmt.Errorf("prompt and noPrompt exclude each other")
	}
	if p.Prompt != "" && !promptValue(p.Prompt) {
		return fmt.Errorf("prompt %q must be space-separated lowercase tokens", p.Prompt)
	}
	return nil
}

// checkParams checks the fixed authorize and token parameters, none of them reserved.
func (p *Provider) checkParams() error {
	clientID := func(k string) bool {
		return p.ClientIDParam != "" && NormalizeParam(k) == NormalizeParam(p.ClientIDParam)
	}
	for k, v := range p.AuthParams {
		if Reserved(k) || clientID(k) {
			return fmt.Errorf("authParams: %s is reserved", k)
		}
		if name, ok := paramInput(v); ok {
			if in := p.input(name); in == nil || !in.InURL() {
				return fmt.Errorf("authParams: %s must hold a declared input of a kind a URL may carry", k)
			}
		} else if strings.Contains(v, "{{") || strings.Contains(v, "}}") {
			return fmt.Errorf("authParams: %s may hold a placeholder only as its whole value", k)
		}
		if !fixedParam(k, v) {
			return fmt.Errorf("authParams: %s must be a plain parameter with printable value", k)
		}
		for k2 := range p.AuthParams {
			if k2 != k && NormalizeParam(k) == NormalizeParam(k2) {
				return fmt.Errorf("authParams: %s given twice", k)
			}
		}
		if p.Refresh.By == RefreshByParam && NormalizeParam(k) == NormalizeParam(p.Refresh.Param) {
			return fmt.Errorf("authParams: %s is the refresh param", k)
		}
	}
	for k, v := range p.TokenParams {
		if ReservedTokenParam(k) || clientID(k) {
			return fmt.Errorf("tokenParams: %s is a parameter of the token request itself", k)
		}
		if !fixedParam(k, v) {
			return fmt.Errorf("tokenParams: %s must be a plain parameter with printable value", k)
		}
	}
	if n := p.ClientIDParam; n != "" {
		if !syntax.ParamName(n) || Reserved(n) || ReservedTokenParam(n) || slices.Contains(responseParams[:], n) {
			return fmt.Errorf("clientIDParam %q must be a plain parameter no request sets otherwise", n)
		}
		if p.TokenAuth != TokenAuthParams {
			return fmt.Errorf("clientIDParam needs tokenAuth params: the client id goes in the request body")
		}
	}
	if p.CodeParam != "" && !slices.Contains(codeParams[:], p.CodeParam) {
		return fmt.Errorf("codeParam %q must be one of %s", p.CodeParam, strings.Join(codeParams[:], ", "))
	}
	switch p.TokenAuth {
	case "", TokenAuthBasic, TokenAuthParams:
	default:
		return fmt.Errorf("tokenAuth %q must be basic or params", p.TokenAuth)
	}
	return nil
}

// checkTokenMetadata checks the values read from the token response.
func (p *Provider) checkTokenMetadata() error {
	for _, f := range p.TokenMetadata {
		if !syntax.ParamName(f.Field) || !syntax.ParamName(f.Name) {
			return fmt.Errorf("tokenMetadata: field and name must be plain names")
		}
		if f.Input != "" && p.input(f.Input) == nil {
			return fmt.Errorf("tokenMetadata %s: input %s is not declared", f.Name, f.Input)
		}
	}
	for _, name := range p.CallbackInputs {
		if name == "workspace" || p.input(name) == nil || Reserved(name) ||
			slices.Contains(responseParams[:], name) || slices.Contains(codeParams[:], name) {
			return fmt.Errorf("callbackInputs: %s must be a declared input other than workspace, and no parameter of the response itself", name)
		}
	}
	return nil
}

// checkAuthKinds checks the credential kinds, each with the endpoints or fields it needs.
func (p *Provider) checkAuthKinds() error {
	for _, k := range p.AuthKinds {
		switch k {
		case OAuth2AuthorizationCode:
			if p.AuthURL == "" {
				return fmt.Errorf("auth kind %s needs authURL and tokenURL", k)
			}
		case OAuth2ClientCredentials, OAuth2PasswordCredentials:
			if p.TokenURL == "" {
				return fmt.Errorf("auth kind %s needs tokenURL", k)
			}
		case APIKey, BasicAuth:
		case CustomAuth:
			if len(p.CustomAuth) == 0 {
				return fmt.Errorf("auth kind customAuth needs customAuth fields")
			}
		default:
			return fmt.Errorf("auth kind %q is unknown", k)
		}
	}
	if p.AuthURL == "" && len(p.AuthKinds) == 0 {
		return fmt.Errorf("a provider needs authURL or auth kinds")
	}
	return p.checkCustomAuth()
}

// checkCustomAuth checks the fields of the customAuth credential kind.
func (p *Provider) checkCustomAuth() error {
	if len(p.CustomAuth) > 0 && !slices.Contains(p.AuthKinds, CustomAuth) {
		return fmt.Errorf("customAuth fields need the customAuth auth kind")
	}
	if len(p.CustomAuth) > 32 {
		return fmt.Errorf("customAuth: at most 32 fields")
	}
	for i, f := range p.CustomAuth {
		if !fieldName.MatchString(f.Name) || f.MaxLength < 0 || f.MaxLength > 4096 {
			return fmt.Errorf("customAuth field %q: name must match %s, maxLength at most 4096", f.Name, fieldName)
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(f.Pattern); err != nil {
				return fmt.Errorf("customAuth field %s: pattern: %w", f.Name, err)
			}
		}
		for _, g := range p.CustomAuth[:i] {
			if g.Name == f.Name {
				return fmt.Errorf("customAuth field %s declared twice", f.Name)
			}
		}
	}
	return nil
}

var fieldName = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]{0,63}$`)

func (p *Provider) input(name string) *metadata.Input {
	for i := range p.Inputs {
		if p.Inputs[i].Name == name {
			return &p.Inputs[i]
		}
	}
	return nil
}

func (p *Provider) scopeSeparator() string {
	if p.ScopeSeparator == "" {
		return " "
	}
	return p.ScopeSeparator
}

// promptValue reports whether s is one or more prompt values joined by spaces.
func promptValue(s string) bool {
	for v := range strings.SplitSeq(s, " ") {
		if !syntax.PromptValue(v) {
			return false
		}
	}
	return true
}

// paramInput returns the input named by a fixed parameter's value that is one placeholder.
func paramInput(value string) (string, bool) {
	name, ok := strings.CutPrefix(value, "{{")
	if !ok {
		return "", false
	}
	if name, ok = strings.CutSuffix(name, "}}"); !ok || !fieldName.MatchString(name) {
		return "", false
	}
	return name, true
}

// fixedParam reports whether a fixed parameter is a plain name with a value of at most 1024
// octets of text: no control character may reach the URL or the token request.
func fixedParam(name, value string) bool {
	return syntax.ParamName(name) && len(value) <= 1024 && syntax.Text(value)
}
