package connect_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/providers"
)

// The pure builder: the semantics of Versori's oauth2/initialise, no I/O.
func ExampleAuthorizeURL() {
	u, err := connect.AuthorizeURL(connect.AuthorizeParams{
		AuthorizeURL:     "https://login.example.com/oauth2/authorize",
		ClientID:         "my-client",
		RedirectURI:      "https://api.example.com/callbacks/v1/oauth",
		State:            "opaque-state",
		Scopes:           []string{"read", "write"},
		Prompt:           "consent+select_account",
		AdditionalParams: "login_hint=ada%40example.com",
		CodeChallenge:    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.ReplaceAll(u, "&", "\n&"))
	// Output:
	// https://login.example.com/oauth2/authorize?response_type=code
	// &client_id=my-client
	// &redirect_uri=https%3A%2F%2Fapi.example.com%2Fcallbacks%2Fv1%2Foauth
	// &scope=read+write+offline_access
	// &state=opaque-state
	// &prompt=consent+select_account
	// &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
	// &code_challenge_method=S256
	// &login_hint=ada%40example.com
}

// Every input error names its field and matches ErrInvalidRequest.
func ExampleAuthorizeURL_errors() {
	_, err := connect.AuthorizeURL(connect.AuthorizeParams{
		AuthorizeURL:     "https://login.example.com/oauth2/authorize",
		ClientID:         "my-client",
		RedirectURI:      "https://api.example.com/callbacks/v1/oauth",
		State:            "opaque-state",
		AdditionalParams: "redirect_uri=https%3A%2F%2Fevil.example",
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, connect.ErrInvalidRequest), errors.Is(err, connect.ErrReservedParam))
	// Output:
	// connect: invalid request: additionalParams.redirect_uri: is set by connect and may not be given
	// true true
}

// The flow: an Ampersand oauth-connect request becomes a Salesforce authorize URL,
// and the pending authorization is saved for the callback.
func ExampleConnector_AuthorizeURL() {
	c, err := connect.New(connect.Config{
		Apps: connect.NewMemoryAppStore(connect.ProviderApp{
			ID: "app-1", ProjectID: "my-project", Provider: "salesforce",
			ClientID: "3MVG9-client-id", ClientSecret: "kept-server-side",
		}),
		RedirectURL: "https://api.example.com/callbacks/v1/oauth",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := `{"projectId": "my-project", "provider": "salesforce", "groupRef": "group-123", "consumerRef": "user_123456"}`
	var req connect.OAuthConnectRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		fmt.Println(err)
		return
	}
	a, err := c.AuthorizeURL(context.Background(), req)
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := url.Parse(a.URL)
	q := u.Query()
	fmt.Println(u.Scheme + "://" + u.Host + u.Path)
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "prompt", "code_challenge_method"} {
		fmt.Printf("%s=%s\n", k, q.Get(k))
	}
	fmt.Println("state is the token:", q.Get("state") == a.State)
	// Output:
	// https://login.salesforce.com/services/oauth2/authorize
	// response_type=code
	// client_id=3MVG9-client-id
	// redirect_uri=https://api.example.com/callbacks/v1/oauth
	// scope=refresh_token
	// prompt=login
	// code_challenge_method=S256
	// state is the token: true
}

// The whole flow against a provider's token endpoint (here an httptest server): start, let the
// provider redirect back, complete the callback, and get a token that refreshes itself.
func ExampleConnector_Callback() {
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-1","refresh_token":"rt-1","token_type":"Bearer","expires_in":3600}`)
	}))
	defer provider.Close()

	reg := providers.NewRegistry()
	_ = reg.Register(&providers.Provider{Name: "example", AuthURL: provider.URL + "/authorize", TokenURL: provider.URL + "/token"})
	c, _ := connect.New(connect.Config{
		Providers:   reg,
		Apps:        connect.NewMemoryAppStore(connect.ProviderApp{ID: "app-1", ProjectID: "proj", Provider: "example", ClientID: "id", ClientSecret: "secret"}),
		RedirectURL: "https://api.example.com/callbacks/v1/oauth",
	})
	ctx := context.Background()
	a, _ := c.AuthorizeURL(ctx, connect.OAuthConnectRequest{ProjectID: "proj", Provider: "example", GroupRef: "g", ConsumerRef: "u"})

	// The user consents; the provider redirects back with a code and the state.
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/callbacks/v1/oauth?code=abc&state="+a.State, nil)
	conn, err := c.Callback(ctx, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(conn.Provider, conn.Status, conn.AuthScheme)

	// A replay of the same redirect is refused.
	_, err = c.Callback(ctx, httptest.NewRequest(http.MethodGet, r.URL.String(), nil))
	fmt.Println(errors.Is(err, connect.ErrStateNotFound))

	ts, _ := c.TokenSource(ctx, conn.ID)
	tok, _ := ts.Token()
	fmt.Println(tok.AccessToken)
	// Output:
	// example working oauth2/authorizationCode
	// true
	// at-1
}

// A connection made from an API key, verified before it is stored and then used through
// Client, which sends the key the way the provider's catalog entry says, and only to its API.
func ExampleConnector_Client() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "the-key" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	defer api.Close()

	reg := providers.NewRegistry()
	err := reg.Register(&providers.Provider{
		Name: "widgets", AuthKinds: []providers.AuthKind{providers.APIKey},
		API: &providers.API{
			BaseURL: api.URL + "/v2", // https for a real provider; http on loopback only
			APIKey:  &providers.Send{Headers: map[string]string{"X-Api-Key": "{{apiKey}}"}},
			Verify:  &providers.Verify{Method: http.MethodGet, Path: "/me"},
		},
	})
	if err != nil {
		panic(err)
	}
	c, err := connect.New(connect.Config{Providers: reg})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	req := connect.ConnectionRequest{ProjectID: "my-project", Provider: "widgets",
		GroupRef: "group-123", ConsumerRef: "user_123456", Verify: true}

	req.APIKey = "a-wrong-key"
	_, err = c.Connect(ctx, req)
	fmt.Println("wrong key refused:", errors.Is(err, connect.ErrBadCredentials))

	req.APIKey = "the-key"
	conn, err := c.Connect(ctx, req)
	if err != nil {
		panic(err)
	}
	hc, err := c.Client(ctx, "my-project", conn.ID)
	if err != nil {
		panic(err)
	}
	resp, err := hc.Get(api.URL + "/v2/widgets")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))

	_, err = hc.Get("https://elsewhere.example/v2/widgets")
	fmt.Println("another host refused:", errors.Is(err, connect.ErrForeignHost))
	// Output:
	// wrong key refused: true
	// 200 {"path":"/v2/widgets"}
	// another host refused: true
}
