package main

import (
	"net/http"
	"regexp"
)

// endView fills static/end.html, the page the popup ends on.
type endView struct {
	OK           bool
	ConnectionID string
	Provider     string
	Code         string // the failure's code, one of failures' keys, or "unknown"
	Title        string
	Text         string
}

// failures say what each of connecthttp's callback failure codes means to the user.
var failures = map[string]struct{ title, text string }{
	"access_denied": {"Access was denied",
		"You clicked Deny, or the provider refused the app. Nothing was connected."},
	"invalid_state": {"This sign-in does not match a flow of this browser",
		"The answer came back for a flow this browser did not start, was used already, or the flow's cookie is gone. Start again from the demo page."},
	"expired": {"The sign-in took too long",
		"The flow expired before the provider sent you back. Start again from the demo page."},
	"exchange_failed": {"The provider did not give tokens",
		"The provider refused to exchange the authorization code for tokens, or could not be reached. The server's log says more."},
	"store_unavailable": {"A store is unavailable",
		"The server could not read or save the flow. Try again in a moment."},
	"invalid_request": {"The provider's answer was malformed",
		"The redirect back from the provider lacked a code or a state, or had both a code and an error."},
	"server_error": {"Something went wrong on the server",
		"The connection could not be finished. The server's log says more."},
}

// safeValue is what the success redirect's values may be: connection ids and provider names.
var safeValue = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// endPage serves the pages the callback redirects the popup to: on success, one that tells
// the opener and closes; on failure, one that tells the opener and stays, styled as the demo
// page, to say what happened. Nothing of the provider's answer reaches these pages: connecthttp
// adds only the connection's id and provider, or a code of a fixed set.
func endPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := endView{OK: r.URL.Path == connectedPath}
	if v.OK {
		v.ConnectionID, v.Provider = q.Get("connectionId"), q.Get("provider")
		if !safeValue.MatchString(v.ConnectionID) || !safeValue.MatchString(v.Provider) {
			v.OK = false
			v.Code = "invalid_request"
		}
	} else {
		v.Code = q.Get("error")
	}
	status := http.StatusOK
	if v.OK {
		v.Title, v.Text = "Connected", "The account is connected. This window closes itself; if it does not, close it."
	} else {
		f, ok := failures[v.Code]
		if !ok {
			v.Code, f = "unknown", failures["server_error"]
		}
		v.Title, v.Text = f.title, f.text
		status = http.StatusBadRequest
	}
	setPageHeaders(w.Header())
	w.WriteHeader(status)
	_ = endTemplate.Execute(w, v)
}
