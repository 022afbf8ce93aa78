// Command quickstart prints a real authorize URL for a provider of the built-in catalog, using
// connect's memory stores: the first step of the OAuth flow, with nothing to set up.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -list
//	go run ./examples/quickstart -list -category crm -kind apiKey
//	go run ./examples/quickstart -provider zendesk -workspace acme
//	go run ./examples/quickstart -provider netsuite -meta accountId=1234567_SB1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// options are the command's flags.
type options struct {
	provider, workspace, clientID, redirect, scopes, meta string
	list                                                  bool
	category, kind                                        string // filters of -list
}

func main() {
	var o options
	flag.StringVar(&o.provider, "provider", "salesforce", "a provider of the catalog (-list shows them and what each needs)")
	flag.StringVar(&o.workspace, "workspace", "", "the provider workspace, e.g. a Zendesk subdomain")
	flag.StringVar(&o.clientID, "client-id", "demo-client-id", "the OAuth client id of your app at the provider")
	flag.StringVar(&o.redirect, "redirect", "https://api.example.com/callbacks/v1/oauth", "your callback URL")
	flag.StringVar(&o.scopes, "scopes", "", "comma-separated scopes to ask for")
	flag.StringVar(&o.meta, "meta", "", "provider metadata as comma-separated name=value pairs, e.g. accountId=1234567")
	flag.BoolVar(&o.list, "list", false, "list the providers of the catalog, with the flags each needs, and exit")
	flag.StringVar(&o.category, "category", "", "with -list: only the providers of this category, e.g. crm, accounting, hr")
	flag.StringVar(&o.kind, "kind", "", "with -list: only the providers accepting this credential kind, e.g. oauth2AuthorizationCode, apiKey")
	flag.Parse()
	if err := run(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, o options) error {
	catalog := providers.Default()
	if o.list {
		return list(w, catalog, o.category, o.kind)
	}
	if o.category != "" || o.kind != "" {
		return errors.New("-category and -kind filter -list; give -list too")
	}
	req := connect.OAuthConnectRequest{
		ProjectID:            "my-project",
		Provider:             o.provider,
		GroupRef:             "group-123",
		ConsumerRef:          "user_123456",
		ProviderWorkspaceRef: o.workspace,
		EnableCSRFProtection: true,
	}
	if o.scopes != "" {
		req.Scopes = strings.Split(o.scopes, ",")
	}
	if o.meta != "" {
		for pair := range strings.SplitSeq(o.meta, ",") {
			name, value, ok := strings.Cut(pair, "=")
			if !ok || name == "" {
				return errors.New("-meta: give name=value pairs, separated by commas")
			}
			if req.ProviderMetadata == nil {
				req.ProviderMetadata = connect.ProviderMetadata{}
			}
			req.ProviderMetadata[name] = connect.MetadataValue{Value: value, Source: "input"}
		}
	}
	c, err := connect.New(connect.Config{
		Providers: catalog,
		Apps: connect.NewMemoryAppStore(connect.ProviderApp{
			ID: "demo-app", ProjectID: req.ProjectID, Provider: o.provider,
			ClientID: o.clientID, ClientSecret: "never-printed",
		}),
		RedirectURL: o.redirect,
	})
	if err != nil {
		return err
	}
	a, err := c.AuthorizeURL(context.Background(), req)
	if err != nil {
		return flagError(err)
	}
	fmt.Fprintf(w, "Send the user to this %s authorize URL:\n\n%s\n\n", o.provider, a.URL)
	fmt.Fprintf(w, "The pending authorization is saved under the SHA-256 of its state until %s.\n", a.ExpiresAt.Format("15:04:05 MST"))
	// The binding is a secret of the browser that starts the flow; a backend sets it as a
	// cookie and never shows it, and neither does this command.
	fmt.Fprintf(w, "A backend sets the flow's binding (Authorization.Binding, not printed) in the HttpOnly cookie\n%s, which the callback checks.\n",
		connect.BindingCookieName(a.State))
	return nil
}

// flagError rewrites the fields a *connect.ValidationError names, which are the request's
// JSON names, as the flags that set them.
func flagError(err error) error {
	var ve *connect.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var b strings.Builder
	for i, f := range ve.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(flagOf(f.Field))
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	b.WriteString(" (-list shows what each provider needs)")
	return errors.New(b.String())
}

// flagOf returns the flag that sets a field of connect.OAuthConnectRequest.
func flagOf(field string) string {
	switch {
	case field == "provider":
		return "-provider"
	case field == "providerWorkspaceRef":
		return "-workspace"
	case field == "providerMetadata":
		return "-meta"
	case strings.HasPrefix(field, "providerMetadata."):
		return "-meta " + strings.TrimPrefix(field, "providerMetadata.")
	case field == "scopes", strings.HasPrefix(field, "scopes["):
		return "-scopes"
	}
	return field // set by this command, not by a flag
}

// list prints the providers of the catalog, those of category and accepting kind when they
// are given, with the flags their inputs need: the input named workspace is -workspace, the
// others are -meta name=value; optional ones are in brackets.
func list(w io.Writer, catalog *providers.Registry, category, kind string) error {
	if category != "" && !slices.Contains(providers.Categories(), providers.Category(category)) {
		return fmt.Errorf("-category %q is not one of %v", category, providers.Categories())
	}
	if kind != "" && !slices.Contains(authKinds, providers.AuthKind(kind)) {
		return fmt.Errorf("-kind %q is not one of %v", kind, authKinds)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tNAME\tCATEGORY\tFLAGS")
	n := 0
	for _, name := range catalog.Names() {
		p, _ := catalog.Lookup(name)
		if category != "" && string(p.Category) != category || kind != "" && !p.Accepts(providers.AuthKind(kind)) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.DisplayName, p.Category, needs(p))
		n++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d providers. FLAGS: -workspace is the provider's workspace, -meta name=value its other\ninputs, with example values; those in [brackets] are optional. -category and -kind filter\nthis list.\n", n)
	return err
}

// authKinds are the credential kinds -kind accepts.
var authKinds = []providers.AuthKind{
	providers.OAuth2AuthorizationCode, providers.OAuth2ClientCredentials, providers.OAuth2PasswordCredentials,
	providers.APIKey, providers.BasicAuth, providers.CustomAuth,
}

// needs returns the flags a provider's inputs need, e.g. "-workspace acme [-meta region=eu]".
func needs(p *providers.Provider) string {
	if !p.Accepts(providers.OAuth2AuthorizationCode) {
		return "(no OAuth authorize flow: connected by " + kinds(p) + ")"
	}
	var parts []string
	for _, in := range p.Inputs {
		parts = append(parts, inputFlag(in))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// inputFlag returns the flag of one input, with its example value.
func inputFlag(in metadata.Input) string {
	value := in.Example
	if value == "" {
		value = "<" + in.Name + ">"
	}
	f := "-meta " + in.Name + "=" + value
	if in.Name == "workspace" {
		f = "-workspace " + value
	}
	if in.Optional {
		return "[" + f + "]"
	}
	return f
}

// kinds names the credential kinds a provider accepts.
func kinds(p *providers.Provider) string {
	var ks []string
	for _, k := range p.AuthKinds {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}
