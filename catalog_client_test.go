package connect_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
)

// recorder is an http.RoundTripper standing in for every provider: it records each request
// and answers a token request with a token and any other with a JSON success.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body strings.Builder
	if req.Body != nil {
		_, _ = io.Copy(&body, req.Body)
		req.Body.Close()
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.bodies = append(r.bodies, body.String())
	r.mu.Unlock()
	answer := `{"ok":true,"success":true}`
	if strings.Contains(req.URL.Path, "token") {
		answer = `{"access_token":"` + sentinelAccessToken + `","token_type":"Bearer","expires_in":3600,"instance_url":"https://acme.my.salesforce.com"}`
	}
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(answer)), Request: req,
	}, nil
}

func (r *recorder) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

// TestCatalogCredentialPlacement connects providers of the built-in catalog, of every
// credential kind and placement, and holds the request Verify makes to what each provider's
// documentation says: the method and URL of the verification endpoint, and where the
// credential goes. The expectations are written from the documentation, not from the catalog.
func TestCatalogCredentialPlacement(t *testing.T) {
	now := time.Now()
	const key = sentinelAPIKey
	const tok = sentinelAccessToken
	apiKey := func(p string) connect.ConnectionRequest {
		r := connectionRequest(p)
		r.APIKey = key
		return r
	}
	imported := func(p string) connect.ConnectionRequest {
		r := importRequest(tok, "", now.Add(time.Hour))
		r.Provider = p
		return r
	}
	machine := func(p string) connect.ConnectionRequest {
		r := connectionRequest(p)
		r.OAuth2ClientCredentials = &connect.OAuth2ClientCredentials{ClientID: "client", ClientSecret: sentinelClientSecret}
		return r
	}
	with := func(r connect.ConnectionRequest, edit func(*connect.ConnectionRequest)) connect.ConnectionRequest {
		edit(&r)
		return r
	}
	workspace := func(ws string) func(*connect.ConnectionRequest) {
		return func(r *connect.ConnectionRequest) { r.ProviderWorkspaceRef = ws }
	}
	meta := func(k, v string) func(*connect.ConnectionRequest) {
		return func(r *connect.ConnectionRequest) {
			r.ProviderMetadata = connect.ProviderMetadata{k: {Value: v}}
		}
	}
	bearer := map[string]string{"Authorization": "Bearer " + key}
	for _, tc := range []struct {
		name   string
		req    connect.ConnectionRequest
		method string
		url    string
		header map[string]string
		basic  []string // user and password
	}{
		// OAuth tokens, imported or from the client credentials grant.
		{"github", imported("github"), "GET", "https://api.github.com/user", map[string]string{"Authorization": "Bearer " + tok}, nil},
		{"slack", imported("slack"), "POST", "https://slack.com/api/auth.test", map[string]string{"Authorization": "Bearer " + tok}, nil},
		{"zendesk", with(imported("zendesk"), workspace("acme")), "GET", "https://acme.zendesk.com/api/v2/users/me.json",
			map[string]string{"Authorization": "Bearer " + tok}, nil},
		{"dropbox", imported("dropbox"), "POST", "https://api.dropboxapi.com/2/users/get_current_account",
			map[string]string{"Authorization": "Bearer " + tok}, nil},
		// The OAuth client's id in a header of its own, beside the token.
		{"twitch", imported("twitch"), "GET", "https://api.twitch.tv/helix/games/top?first=1",
			map[string]string{"Authorization": "Bearer " + tok, "Client-Id": "twitch-client-id"}, nil},
		{"microsoft", with(machine("microsoft"), meta("tenant", "contoso.onmicrosoft.com")), "GET", "https://graph.microsoft.com/v1.0/organization",
			map[string]string{"Authorization": "Bearer " + tok}, nil},
		{"salesforce", with(machine("salesforce"), workspace("acme")), "GET", "https://acme.my.salesforce.com/services/data/v62.0/",
			map[string]string{"Authorization": "Bearer " + tok}, nil},
		// API keys in a header.
		{"notion", apiKey("notion"), "GET", "https://api.notion.com/v1/users/me",
			map[string]string{"Authorization": "Bearer " + key, "Notion-Version": "2022-06-28"}, nil},
		{"airtable", apiKey("airtable"), "GET", "https://api.airtable.com/v0/meta/whoami", bearer, nil},
		{"asana", apiKey("asana"), "GET", "https://app.asana.com/api/1.0/users/me", bearer, nil},
		{"linear", apiKey("linear"), "POST", "https://api.linear.app/graphql", map[string]string{"Authorization": key}, nil},
		{"openai", apiKey("openai"), "GET", "https://api.openai.com/v1/models", bearer, nil},
		{"anthropic", apiKey("anthropic"), "GET", "https://api.anthropic.com/v1/models?limit=1",
			map[string]string{"X-Api-Key": key, "Anthropic-Version": "2023-06-01"}, nil},
		{"sendgrid", apiKey("sendgrid"), "GET", "https://api.sendgrid.com/v3/scopes", bearer, nil},
		{"gitlab", apiKey("gitlab"), "GET", "https://gitlab.com/api/v4/user", map[string]string{"Private-Token": key}, nil},
		{"pagerduty", apiKey("pagerduty"), "GET", "https://api.pagerduty.com/abilities",
			map[string]string{"Authorization": "Token token=" + key, "Accept": "application/vnd.pagerduty+json;version=2"}, nil},
		{"klaviyo", apiKey("klaviyo"), "GET", "https://a.klaviyo.com/api/accounts", map[string]string{"Authorization": "Klaviyo-API-Key " + key}, nil},
		{"heroku", apiKey("heroku"), "GET", "https://api.heroku.com/account",
			map[string]string{"Authorization": "Bearer " + key, "Accept": "application/vnd.heroku+json; version=3"}, nil},
		{"shopify", with(apiKey("shopify"), workspace("acme")), "GET", "https://acme.myshopify.com/admin/oauth/access_scopes.json",
			map[string]string{"X-Shopify-Access-Token": key}, nil},
		{"intercom eu", with(apiKey("intercom"), meta("region", "eu")), "GET", "https://api.eu.intercom.io/me", bearer, nil},
		{"pipedrive", apiKey("pipedrive"), "GET", "https://api.pipedrive.com/api/v1/users/me", map[string]string{"X-Api-Token": key}, nil},
		// An API key in the query, for an API that takes it nowhere else.
		{"shodan", apiKey("shodan"), "GET", "https://api.shodan.io/api-info?key=" + key, nil, nil},
		// API keys by HTTP Basic.
		{"stripe", apiKey("stripe"), "GET", "https://api.stripe.com/v1/balance", nil, []string{key, ""}},
		{"freshdesk", with(apiKey("freshdesk"), workspace("acme")), "GET", "https://acme.freshdesk.com/api/v2/agents/me", nil, []string{key, "X"}},
		{"close", apiKey("close"), "GET", "https://api.close.com/api/v1/me/", nil, []string{key, ""}},
		{"mailchimp", with(apiKey("mailchimp"), meta("dc", "us6")), "GET", "https://us6.api.mailchimp.com/3.0/ping", nil, []string{"anystring", key}},
		// Basic credentials and custom auth fields.
		{"twilio", with(connectionRequest("twilio"), func(r *connect.ConnectionRequest) {
			r.BasicAuth = &connect.BasicAuth{Username: "AC0123", Password: sentinelBasicPassword}
		}), "GET", "https://api.twilio.com/2010-04-01/Accounts.json", nil, []string{"AC0123", sentinelBasicPassword}},
		{"cloudflare", with(connectionRequest("cloudflare"), func(r *connect.ConnectionRequest) {
			r.CustomAuth = map[string]connect.Secret{"email": "ada@example.com", "globalApiKey": sentinelCustomToken}
		}), "GET", "https://api.cloudflare.com/client/v4/accounts",
			map[string]string{"X-Auth-Email": "ada@example.com", "X-Auth-Key": sentinelCustomToken}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			apps := connect.NewMemoryAppStore(connect.ProviderApp{ID: "twitch-app", ProjectID: "proj", Provider: "twitch",
				ClientID: "twitch-client-id", ClientSecret: sentinelAppSecret})
			c, err := connect.New(connect.Config{HTTPClient: &http.Client{Transport: rec}, Apps: apps})
			if err != nil {
				t.Fatal(err)
			}
			conn, err := c.Connect(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if err := c.Verify(context.Background(), "proj", conn.ID); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got := rec.last()
			if got.Method != tc.method || got.URL.String() != tc.url {
				t.Errorf("verification request %s %s, want %s %s", got.Method, got.URL, tc.method, tc.url)
			}
			for k, v := range tc.header {
				if got.Header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), v)
				}
			}
			user, password, ok := got.BasicAuth()
			if tc.basic != nil && (!ok || user != tc.basic[0] || password != tc.basic[1]) {
				t.Errorf("basic auth %q:%q (%v), want %q:%q", user, password, ok, tc.basic[0], tc.basic[1])
			}
			if tc.basic == nil && ok {
				t.Errorf("basic auth sent, want none")
			}
		})
	}
}

// TestCatalogAmazonSellingPartner runs Amazon's website authorization workflow for sellers
// through the catalog entry, as Amazon's own SP-API samples show it: the consent page of the
// seller's Seller Central with the app's application_id and no PKCE, the code returned as
// spapi_oauth_code beside selling_partner_id, redeemed at Login with Amazon with the client's
// credentials in the form, and the token sent to the region's SP-API host in
// x-amz-access-token.
func TestCatalogAmazonSellingPartner(t *testing.T) {
	rec := &recorder{}
	apps := connect.NewMemoryAppStore(connect.ProviderApp{ID: "sp-app", ProjectID: "proj", Provider: "amazon-selling-partner",
		ClientID: "amzn1.application-oa2-client.abc", ClientSecret: sentinelAppSecret})
	c, err := connect.New(connect.Config{HTTPClient: &http.Client{Transport: rec}, Apps: apps, RedirectURL: testRedirect})
	if err != nil {
		t.Fatal(err)
	}
	req := oauthRequest("amazon-selling-partner")
	req.ProviderMetadata = connect.ProviderMetadata{
		"applicationId": {Value: "amzn1.sp.solution.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
		"sellerCentral": {Value: "sellercentral-europe.amazon.com"},
		"region":        {Value: "eu"},
	}
	a, u, q := authorize(t, c, req)
	if u.Host != "sellercentral-europe.amazon.com" || u.Path != "/apps/authorize/consent" ||
		q.Get("application_id") != "amzn1.sp.solution.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9" || q.Has("code_challenge") {
		t.Errorf("authorize URL %s: want Seller Central Europe's consent page with the application_id and no PKCE", a.URL)
	}
	conn, err := c.Callback(context.Background(), callbackRequest(
		"state="+a.State+"&selling_partner_id=A2EUQ1WTGCTBG2&spapi_oauth_code="+sentinelCode))
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if got := conn.ProviderMetadata["selling_partner_id"]; got.Value != "A2EUQ1WTGCTBG2" || got.Source != "callback" {
		t.Errorf("selling_partner_id = %+v, want A2EUQ1WTGCTBG2 from the callback", got)
	}
	form, err := url.ParseQuery(rec.bodies[0])
	if err != nil {
		t.Fatal(err)
	}
	if tok := rec.reqs[0]; tok.URL.String() != "https://api.amazon.com/auth/o2/token" || form.Get("code") != sentinelCode ||
		form.Get("client_id") != "amzn1.application-oa2-client.abc" || form.Get("client_secret") != sentinelAppSecret {
		t.Errorf("token request to %s with %v: want the code and client credentials in the form", tok.URL, form)
	}
	if err := c.Verify(context.Background(), "proj", conn.ID); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	got := rec.last()
	if got.Method != http.MethodGet || got.URL.String() != "https://sellingpartnerapi-eu.amazon.com/sellers/v1/marketplaceParticipations" ||
		got.Header.Get("X-Amz-Access-Token") != sentinelAccessToken || got.Header.Get("Authorization") != "" {
		t.Errorf("verification request %s %s with headers %v: want the EU marketplace participations with x-amz-access-token",
			got.Method, got.URL, got.Header)
	}
}

// TestCatalogTikTok runs TikTok's Login Kit flow through the catalog entry, as TikTok's own SDK
// shows it: the client id as client_key on the authorize URL and in the token request, scopes
// joined by commas, no PKCE (TikTok's challenge is not RFC 7636's), and the token as a Bearer
// header on the user info call.
func TestCatalogTikTok(t *testing.T) {
	rec := &recorder{}
	apps := connect.NewMemoryAppStore(connect.ProviderApp{ID: "tt-app", ProjectID: "proj", Provider: "tiktok",
		ClientID: "awp9h9mdmo510fct", ClientSecret: sentinelAppSecret, Scopes: []string{"video.list"}})
	c, err := connect.New(connect.Config{HTTPClient: &http.Client{Transport: rec}, Apps: apps, RedirectURL: testRedirect})
	if err != nil {
		t.Fatal(err)
	}
	a, u, q := authorize(t, c, oauthRequest("tiktok"))
	if u.Host != "www.tiktok.com" || q.Get("client_key") != "awp9h9mdmo510fct" || q.Has("client_id") ||
		q.Get("scope") != "user.info.basic,video.list" || q.Has("code_challenge") {
		t.Errorf("authorize URL %s: want client_key, comma-joined scopes and no PKCE", a.URL)
	}
	conn, err := c.Callback(context.Background(), callbackRequest("code="+sentinelCode+"&state="+a.State))
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	form, err := url.ParseQuery(rec.bodies[0])
	if err != nil {
		t.Fatal(err)
	}
	if tok := rec.reqs[0]; tok.URL.String() != "https://open.tiktokapis.com/v2/oauth/token/" || form.Get("client_key") != "awp9h9mdmo510fct" ||
		form.Has("client_id") || form.Get("client_secret") != sentinelAppSecret || form.Get("code") != sentinelCode {
		t.Errorf("token request to %s with %v: want the code, client_key and client_secret in the form", tok.URL, form)
	}
	if err := c.Verify(context.Background(), "proj", conn.ID); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := rec.last(); got.URL.String() != "https://open.tiktokapis.com/v2/user/info/?fields=open_id" ||
		got.Header.Get("Authorization") != "Bearer "+sentinelAccessToken {
		t.Errorf("verification request %s with Authorization %q", got.URL, got.Header.Get("Authorization"))
	}
}

// authorize starts the flow of req and parses its authorize URL.
func authorize(t *testing.T, c *connect.Connector, req connect.OAuthConnectRequest) (*connect.Authorization, *url.URL, url.Values) {
	t.Helper()
	a, err := c.AuthorizeURL(context.Background(), req)
	if err != nil {
		t.Fatalf("AuthorizeURL: %v", err)
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	return a, u, u.Query()
}
