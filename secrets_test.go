package connect_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connect"
)

// fmtSentinel is the secret of every secret field below. Its quote makes the %q and JSON
// forms differ from the raw one; every form still contains "SENTINEL".
const fmtSentinel = `fmt-SENTINEL"7c41e9`

// sentinelForms are the ways fmt, JSON and slog could show fmtSentinel: as text (raw, quoted
// or escaped), as hex under %x, %X and % x, as bytes under %d, and as base64 for []byte.
var sentinelForms = []string{
	"SENTINEL",
	hex.EncodeToString([]byte("SENTINEL")),
	strings.ToUpper(hex.EncodeToString([]byte("SENTINEL"))),
	fmt.Sprintf("% x", "SENTINEL"),
	strings.Trim(fmt.Sprint([]byte("SENTINEL")), "[]"),
	base64.StdEncoding.EncodeToString([]byte(fmtSentinel)),
}

// secretVerbs are the fmt directives every type holding a secret is printed with. %p is not
// among them: fmt applies it before any method, and prints a value that is not a pointer
// raw, which no type whose secret is a string can prevent.
var secretVerbs = []string{
	"%v", "%+v", "%#v", "%s", "%+s", "%q", "%+q", "%#q", "%x", "%X", "% x", "%#x", "%d", "%+d",
	"%10s", "%-10v", "%10.3v", "%-+#v", "%T", "%t", "%e", "%U",
}

func TestSecretsNeverPrinted(t *testing.T) {
	const s = connect.Secret(fmtSentinel)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	basic := connect.BasicAuth{Username: "visible-user", Password: s}
	client := connect.OAuth2ClientCredentials{ClientID: "visible-client", ClientSecret: s, Scopes: []string{"read"}}
	password := connect.OAuth2PasswordCredentials{Username: "visible-user", Password: s, ClientID: "visible-client", ClientSecret: s}
	token := connect.TokenValue{Token: s, IssuedAt: &at, ExpiresAt: &at}
	code := connect.OAuth2AuthorizationCode{AccessToken: &token, RefreshToken: &connect.TokenValue{Token: s}, Scopes: []string{"read"}}
	app := connect.ProviderApp{ID: "visible-app", ProjectID: "visible-project", Provider: "plain", ClientID: "visible-client", ClientSecret: s}
	conn := connect.Connection{ID: "visible-conn", ProjectID: "visible-project", Provider: "plain"}
	tests := []struct {
		name string
		v    any
		// show is what %v, %+v and %#v must still show, so that logs stay useful.
		show string
		// container is a map or a slice: a pointer to one is printed only as the value itself,
		// since fmt prints a pointer to a map or a slice nested in another value with no
		// method of any element when a verb does not suit a pointer; no type can change that.
		container bool
	}{
		{"Secret", s, "[redacted]", false},
		{"map of Secret", map[string]connect.Secret{"visible-key": s}, "visible-key", true},
		{"ProviderApp", app, "visible-app", false},
		{"slice of ProviderApp", []connect.ProviderApp{app, app}, "visible-app", true},
		{"ConnectionRequest", connect.ConnectionRequest{
			ProjectID: "visible-project", Provider: "plain", APIKey: s,
			CustomAuth: map[string]connect.Secret{"visible-field": s}, BasicAuth: &basic,
			OAuth2ClientCredentials: &client, OAuth2PasswordCredentials: &password, OAuth2AuthorizationCode: &code,
		}, "visible-project", false},
		{"BasicAuth", basic, "visible-user", false},
		{"OAuth2ClientCredentials", client, "visible-client", false},
		{"OAuth2PasswordCredentials", password, "visible-client", false},
		{"OAuth2AuthorizationCode", code, "read", false},
		{"TokenValue", token, "2026", false},
		{"ConnectionRecord", connect.ConnectionRecord{Connection: conn, Credentials: []byte(fmtSentinel), Version: 7}, "visible-conn", false},
		{"Credentials", connect.Credentials{AuthScheme: "apiKey", APIKey: s, Username: "visible-user", Password: s,
			Custom: map[string]connect.Secret{"visible-field": s}}, "visible-user", false},
		{"Authorization", connect.Authorization{URL: "https://visible.example/authorize", State: "visible-state", ExpiresAt: at, Binding: s}, "visible-state", false},
	}
	type holder struct{ V any }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The value, a pointer to it, and both inside a struct, a slice and a map.
			forms := map[string]any{
				"value": tc.v, "pointer": ptr(tc.v),
				"struct": holder{tc.v}, "struct of pointer": holder{ptr(tc.v)},
				"slice": []any{tc.v}, "slice of pointer": []any{ptr(tc.v)},
				"map": map[string]any{"k": tc.v},
			}
			if tc.container {
				delete(forms, "struct of pointer")
				delete(forms, "slice of pointer")
			}
			outputs := map[string]string{}
			for form, x := range forms {
				for _, verb := range secretVerbs {
					outputs[form+" "+verb] = fmt.Sprintf(verb, x)
				}
				outputs[form+" Sprint"] = fmt.Sprint(x)
				outputs[form+" Sprintln"] = fmt.Sprintln(x)
				j, err := json.Marshal(x)
				if err != nil {
					t.Fatalf("json.Marshal(%s) = %v", form, err)
				}
				outputs[form+" JSON"] = string(j)
				var text, js bytes.Buffer
				slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", x)
				slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", x)
				outputs[form+" slog text"] = text.String()
				outputs[form+" slog JSON"] = js.String()
			}
			for name, out := range outputs {
				for _, f := range sentinelForms {
					if strings.Contains(out, f) {
						t.Errorf("%s shows the secret (as %q): %s", name, f, out)
						break
					}
				}
			}
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				if got := fmt.Sprintf(verb, tc.v); !strings.Contains(got, tc.show) {
					t.Errorf("Sprintf(%q) = %s, want it to show %q", verb, got, tc.show)
				}
			}
		})
	}
}

// ptr returns a pointer to a copy of v, of v's own type.
func ptr(v any) any {
	p := reflect.New(reflect.TypeOf(v))
	p.Elem().Set(reflect.ValueOf(v))
	return p.Interface()
}
