package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/connectkit/connect"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserFlow runs the demo in a headless Chromium: Connect on the page, approve in the
// popup as ada, and see the connection and a token preview on the page.
func TestBrowserFlow(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := chromiumPath + " is missing (" + err.Error() + "); install it with apt-get install chromium"
		if os.Getenv("CONNECT_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	d := startDemo(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	page := newBrowser(t, ctx)

	if err := chromedp.Do(page,
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(chromedp.ID("connect")),
		chromedp.WaitVisible(chromedp.ID("no-connections")),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	approveInPopup(t, ctx, page, d)

	if err := chromedp.Do(page,
		chromedp.WaitVisible(chromedp.CSS(`#connections li[data-provider="local"][data-status="working"]`)),
		chromedp.WaitVisible(chromedp.CSS("#token.shown")),
	); err != nil {
		errText, _ := chromedp.Run(page, chromedp.TextContent(chromedp.ID("error")))
		t.Fatalf("waiting for the connection on the page (page error %q): %v", errText, err)
	}
	token, err := chromedp.Run(page, chromedp.Text(chromedp.ID("token")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "Bearer ") || !strings.Contains(token, "…") {
		t.Errorf("#token shows %q, want Bearer and a preview ending in …", token)
	}
	if errText, _ := chromedp.Run(page, chromedp.TextContent(chromedp.ID("error"))); errText != "" {
		t.Errorf("#error shows %q", errText)
	}

	if n := bindingCookies(t, page, d.url+callbackPath); n != 0 {
		t.Errorf("%d binding cookies left after the callback, want 0: it clears its own", n)
	}
	saveScreenshot(t, page)

	recs, err := d.conns.List(ctx, demoProject, connect.ConnectionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Connection.Provider != demoProvider {
		t.Errorf("the store holds %d connections, want exactly one of provider local", len(recs))
	}
}

// newBrowser starts a headless Chromium that ends with ctx or the test, and returns the
// context of its first tab.
func newBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 900),
		// The popup blocker stays on, as in a user's browser: the page opens its popup
		// within the click.
	)
	t.Cleanup(cancelAlloc)
	page, cancelPage := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelPage)
	return page
}

// approveInPopup clicks Connect on the page, and approves as the demo's user in the popup
// that opens at the authorization server.
func approveInPopup(t *testing.T, ctx, page context.Context, d *demo) {
	t.Helper()
	// The page opens the popup blank, in the click, and then points it at the authorization
	// server: the target's URL changes to the authorize URL.
	popupID := chromedp.WaitNewTarget(page, func(info *target.Info) bool {
		return info.Type == "page" && strings.HasPrefix(info.URL, d.authURL+"/authorize?")
	})
	if err := chromedp.Do(page, chromedp.Click(chromedp.ID("connect"))); err != nil {
		t.Fatalf("clicking Connect: %v", err)
	}
	var id target.ID
	select {
	case id = <-popupID:
	case <-ctx.Done():
		errText, _ := chromedp.Run(page, chromedp.TextContent(chromedp.ID("error")))
		t.Fatalf("no popup at the authorization server (page error %q): %v", errText, ctx.Err())
	}
	if id == "" {
		t.Fatal("waiting for the popup failed")
	}
	popup, cancelPopup := chromedp.NewContext(page, chromedp.WithTargetID(id))
	t.Cleanup(cancelPopup)
	if err := chromedp.Do(popup, chromedp.WaitVisible(chromedp.ID("approve"))); err != nil {
		t.Fatalf("the consent page: %v", err)
	}
	// The flow asked for CSRF protection: Chromium kept the __Host- binding cookie, Secure
	// though the page is plain http, because it counts http://127.0.0.1 as a secure context.
	if n := bindingCookies(t, page, d.url+callbackPath); n != 1 {
		t.Errorf("%d binding cookies for the callback before the consent, want 1", n)
	}
	user, err := chromedp.Run(popup, chromedp.Value(chromedp.ID("username")))
	if err != nil {
		t.Fatal(err)
	}
	if user == "" {
		if err := chromedp.Do(popup, chromedp.SendKeys(chromedp.ID("username"), demoUser)); err != nil {
			t.Fatal(err)
		}
	}
	pass, err := chromedp.Run(popup, chromedp.Value(chromedp.ID("password")))
	if err != nil {
		t.Fatal(err)
	}
	if pass == "" {
		if err := chromedp.Do(popup, chromedp.SendKeys(chromedp.ID("password"), demoPassword)); err != nil {
			t.Fatal(err)
		}
	}
	// The click submits the form; the popup then goes to the callback, posts its message and
	// closes itself, which may end the click's own call early.
	if err := chromedp.Do(popup, chromedp.Click(chromedp.ID("approve"))); err != nil {
		t.Logf("clicking Approve: %v (the popup may have closed first)", err)
	}
}

// saveScreenshot saves a screenshot of the page, in CONNECT_SCREENSHOT_DIR if it is set.
func saveScreenshot(t *testing.T, page context.Context) {
	t.Helper()
	shot, err := chromedp.Run(page, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := t.TempDir()
	if keep := os.Getenv("CONNECT_SCREENSHOT_DIR"); keep != "" {
		dir = keep // to look at it after the test
	}
	path := filepath.Join(dir, "connected.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// bindingCookies counts the browser's HttpOnly, Secure binding cookies sent to url.
func bindingCookies(t *testing.T, ctx context.Context, url string) int {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		t.Fatalf("reading the cookies: %v", err)
	}
	n := 0
	for _, ck := range res.Cookies {
		if strings.HasPrefix(ck.Name, connect.BindingCookie+"-") {
			if !ck.Secure || !ck.HTTPOnly || ck.Path != "/" {
				t.Errorf("cookie %s: Secure %t, HttpOnly %t, Path %q; want Secure, HttpOnly, /", ck.Name, ck.Secure, ck.HTTPOnly, ck.Path)
			}
			n++
		}
	}
	return n
}
