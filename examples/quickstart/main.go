// Command quickstart prints a real authorize URL for a provider of the built-in catalog, using
// connect's memory stores: the first step of the OAuth flow, with nothing to set up.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -provider zendesk -workspace acme
//	go run ./examples/quickstart -provider netsuite -meta accountId=1234567_SB1
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/providers"
)

func main() {
	provider := flag.String("provider", "salesforce", "a provider of the catalog (-list shows them)")
	workspace := flag.String("workspace", "", "the provider workspace, e.g. a Zendesk subdomain")
	clientID := flag.String("client-id", "demo-client-id", "the OAuth client id of your app at the provider")
	redirect := flag.String("redirect", "https://api.example.com/callbacks/v1/oauth", "your callback URL")
	scopes := flag.String("scopes", "", "comma-separated scopes to ask for")
	meta := flag.String("meta", "", "provider metadata as comma-separated name=value pairs, e.g. accountId=1234567")
	list := flag.Bool("list", false, "list the providers of the catalog and exit")
	flag.Parse()
	if err := run(*provider, *workspace, *clientID, *redirect, *scopes, *meta, *list); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(provider, workspace, clientID, redirect, scopes, meta string, list bool) error {
	catalog := providers.Default()
	if list {
		fmt.Println(strings.Join(catalog.Names(), "\n"))
		return nil
	}
	c, err := connect.New(connect.Config{
		Providers: catalog,
		Apps: connect.NewMemoryAppStore(connect.ProviderApp{
			ID: "demo-app", ProjectID: "my-project", Provider: provider,
			ClientID: clientID, ClientSecret: "never-printed",
		}),
		RedirectURL: redirect,
	})
	if err != nil {
		return err
	}
	req := connect.OAuthConnectRequest{
		ProjectID:            "my-project",
		Provider:             provider,
		GroupRef:             "group-123",
		ConsumerRef:          "user_123456",
		ProviderWorkspaceRef: workspace,
		EnableCSRFProtection: true,
	}
	if scopes != "" {
		req.Scopes = strings.Split(scopes, ",")
	}
	for pair := range strings.SplitSeq(meta, ",") {
		if name, value, ok := strings.Cut(pair, "="); ok {
			if req.ProviderMetadata == nil {
				req.ProviderMetadata = connect.ProviderMetadata{}
			}
			req.ProviderMetadata[name] = connect.MetadataValue{Value: value, Source: "input"}
		}
	}
	a, err := c.AuthorizeURL(context.Background(), req)
	if err != nil {
		return err
	}
	fmt.Printf("Send the user to this %s authorize URL:\n\n%s\n\n", provider, a.URL)
	fmt.Printf("The pending authorization is saved under the SHA-256 of its state until %s.\n", a.ExpiresAt.Format("15:04:05 MST"))
	fmt.Println("Keep the binding value in an HttpOnly cookie; the callback checks it.")
	return nil
}
