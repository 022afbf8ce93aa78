package connecthttp_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
)

// A backend mounts the handler in its own mux and says which project each API key acts for.
func Example() {
	c, err := connect.New(connect.Config{
		Apps: connect.NewMemoryAppStore(connect.ProviderApp{
			ID: "sf-app", ProjectID: "my-project", Provider: "salesforce", ClientID: "xxx", ClientSecret: "never-shown",
		}),
		RedirectURL: "https://api.example.com/callbacks/v1/oauth",
	})
	if err != nil {
		log.Fatal(err)
	}
	keys, err := connecthttp.StaticKeys(map[string]string{"the-api-key": "my-project"})
	if err != nil {
		log.Fatal(err)
	}
	h, err := connecthttp.New(c, keys,
		connecthttp.WithRedirects("https://app.example.com/connected", "https://app.example.com/failed"),
	)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)

	// Ampersand's oauth-connect request.
	r := httptest.NewRequest(http.MethodPost, "/v1/oauth-connect", strings.NewReader(
		`{"projectId": "my-project", "provider": "salesforce", "groupRef": "group-123", "consumerRef": "user_123456"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Api-Key", "the-api-key")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)

	var authorizeURL string
	if err := json.Unmarshal(rec.Body.Bytes(), &authorizeURL); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code, strings.SplitN(authorizeURL, "&", 2)[0])

	// A request without the key.
	r = httptest.NewRequest(http.MethodGet, "/v1/projects/my-project/connections", nil)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// 200 https://login.salesforce.com/services/oauth2/authorize?response_type=code
	// 401 application/problem+json
}
