package connecthttp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/connectkit/connect"
)

func TestInternalErrorIsGeneric(t *testing.T) {
	f := newFixtureWith(t, fixtureConfig{edit: func(c *connect.Config) { c.RedirectURL = "" }})
	rec := f.do(http.MethodPost, "/v1/oauth-connect", ampersandConnectBody)
	p := checkProblem(t, rec, http.StatusInternalServerError, "internal-error")
	if strings.Contains(p.Detail, "RedirectURL") {
		t.Errorf("detail %q repeats the internal error", p.Detail)
	}
	if !strings.Contains(f.logs.String(), "RedirectURL") {
		t.Errorf("logs do not record the internal error")
	}
}
