package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/connectkit/connect"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserFlow runs the demo in a headless Chromium: Connect on the page, approve in the
// popup as ada, and see the connection and its token's fingerprint on the page; then connect
// the API-key provider with the page's form.
func TestBrowserFlow(t *testing.T) {
	needBrowser(t)
	d := startDemo(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	page := newBrowser(t, ctx)
	openPage(t, page, d)
	popup := openPopup(t, ctx, page, d)
	approveInPopup(t, popup)

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
	if !regexp.MustCompile(`^Bearer token sha256:[0-9a-f]{12}, expires .`).MatchString(token) {
		t.Errorf("#token shows %q, want Bearer, a fingerprint and the expiry", token)
	}
	if errText, _ := chromedp.Run(page, chromedp.TextContent(chromedp.ID("error"))); errText != "" {
		t.Errorf("#error shows %q", errText)
	}

	if n := bindingCookies(t, page, d.url+callbackPath); n != 0 {
		t.Errorf("%d binding cookies left after the callback, want 0: it clears its own", n)
	}

	// The API-key form.
	if err := chromedp.Do(page,
		chromedp.SendKeys(chromedp.ID("api-key"), d.localKey),
		chromedp.Click(chromedp.ID("save-key")),
		chromedp.WaitVisible(chromedp.CSS(`#connections li[data-provider="`+demoKeyProvider+`"]`)),
		chromedp.WaitVisible(chromedp.ID("notice")),
	); err != nil {
		errText, _ := chromedp.Run(page, chromedp.TextContent(chromedp.ID("error")))
		t.Fatalf("connecting the API key (page error %q): %v", errText, err)
	}
	if v, err := chromedp.Run(page, chromedp.Value(chromedp.ID("api-key"))); err != nil || v != "" {
		t.Errorf("the key field holds %q (%v) after saving, want it cleared", v, err)
	}

	// Each connection's Call API button calls the local API with its credential.
	for provider, want := range map[string]string{demoProvider: `"subject": "ada"`, demoKeyProvider: `"subject": "api-key-1"`} {
		li := `#connections li[data-provider="` + provider + `"]`
		if err := chromedp.Do(page,
			chromedp.Click(chromedp.CSS(li+" button.call")),
			chromedp.WaitVisible(chromedp.CSS(li+` pre.answer[data-status="200"]`)),
		); err != nil {
			answer, _ := chromedp.Run(page, chromedp.TextContent(chromedp.CSS(li+" pre.answer")))
			t.Fatalf("calling the API of %s (answer %q): %v", provider, answer, err)
		}
		answer, err := chromedp.Run(page, chromedp.Text(chromedp.CSS(li+" pre.answer")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(answer, "GET "+d.authURL+"/api/me\n200\n") || !strings.Contains(answer, want) {
			t.Errorf("the API call of %s shows %q, want GET /api/me answered 200 with %s", provider, answer, want)
		}
	}
	saveScreenshot(t, page, "connected.png")

	recs, err := d.conns.List(ctx, demoProject, connect.ConnectionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Connection.Provider)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{demoProvider, demoKeyProvider}) {
		t.Errorf("the store holds connections of %v, want one of %s and one of %s", got, demoProvider, demoKeyProvider)
	}
}

// TestBrowserDeny denies consent in the popup: the popup ends on a page styled as the demo
// page that says access was denied, and the demo page says the connection failed and gives
// the Connect button back.
func TestBrowserDeny(t *testing.T) {
	needBrowser(t)
	d := startDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	page := newBrowser(t, ctx)
	openPage(t, page, d)
	popup := openPopup(t, ctx, page, d)
	if err := chromedp.Do(popup,
		chromedp.Click(chromedp.ID("deny")),
		chromedp.WaitVisible(chromedp.ID("end-title")),
	); err != nil {
		t.Fatalf("denying: %v", err)
	}
	title, err := chromedp.Run(popup, chromedp.Text(chromedp.ID("end-title")))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(popup, chromedp.Text(chromedp.ID("end-text")))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Access was denied" || !strings.Contains(text, "Nothing was connected") {
		t.Errorf("the failure page says %q, %q; want that access was denied and nothing connected", title, text)
	}
	// Styled by the demo's style sheet: its card, its colours, its error box.
	style, err := chromedp.Run(popup, chromedp.Evaluate[map[string]string](`(() => {
		const main = getComputedStyle(document.querySelector("main"));
		const err = getComputedStyle(document.getElementById("end-text"));
		return {radius: main.borderTopLeftRadius, card: main.backgroundColor, body: getComputedStyle(document.body).backgroundColor,
			errBg: err.backgroundColor, sheets: String(document.styleSheets.length)};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if style["sheets"] != "1" || style["radius"] != "14px" || style["card"] == style["body"] || style["errBg"] == "rgba(0, 0, 0, 0)" {
		t.Errorf("the failure page is not styled as the demo page: %v", style)
	}
	saveScreenshot(t, popup, "denied.png")

	if err := chromedp.Do(page,
		chromedp.WaitVisible(chromedp.ID("error")),
		chromedp.WaitEnabled(chromedp.ID("connect")),
	); err != nil {
		t.Fatalf("the demo page after the denial: %v", err)
	}
	if msg, err := chromedp.Run(page, chromedp.Text(chromedp.ID("error"))); err != nil || !strings.Contains(msg, "access_denied") {
		t.Errorf("the demo page says %q (%v), want the failure access_denied", msg, err)
	}
}

// TestBrowserPopupClosed closes the popup on the consent page: the demo page says the window
// was closed before the connection finished, and gives the Connect button back.
func TestBrowserPopupClosed(t *testing.T) {
	needBrowser(t)
	d := startDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	page := newBrowser(t, ctx)
	openPage(t, page, d)
	popup := openPopup(t, ctx, page, d)
	if err := chromedp.Do(popup, chromedp.Evaluate[chromedp.Void]("window.close()")); err != nil {
		t.Logf("closing the popup: %v (it may have closed first)", err)
	}
	if err := chromedp.Do(page,
		chromedp.WaitVisible(chromedp.ID("notice")),
		chromedp.WaitEnabled(chromedp.ID("connect")),
	); err != nil {
		t.Fatalf("the demo page after the popup closed: %v", err)
	}
	msg, err := chromedp.Run(page, chromedp.Text(chromedp.ID("notice")))
	if err != nil || !strings.Contains(msg, "closed before the connection finished") {
		t.Errorf("the demo page says %q (%v), want that the window was closed before the connection finished", msg, err)
	}
}

// needBrowser skips the test without Chromium, or fails it when CONNECT_REQUIRE_BROWSER=1.
func needBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := chromiumPath + " is missing (" + err.Error() + "); install it with apt-get install chromium"
		if os.Getenv("CONNECT_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// openPage loads the demo page.
func openPage(t *testing.T, page context.Context, d *demo) {
	t.Helper()
	if err := chromedp.Do(page,
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(chromedp.ID("connect")),
		chromedp.WaitVisible(chromedp.ID("no-connections")),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
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

// openPopup clicks Connect on the page and returns the popup that opens at the authorization
// server, once its consent page shows, checked to fit the popup without scrolling.
func openPopup(t *testing.T, ctx, page context.Context, d *demo) context.Context {
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
	checkFits(t, popup)
	// The flow asked for CSRF protection: Chromium kept the __Host- binding cookie, Secure
	// though the page is plain http, because it counts http://127.0.0.1 as a secure context.
	if n := bindingCookies(t, page, d.url+callbackPath); n != 1 {
		t.Errorf("%d binding cookies for the callback before the consent, want 1", n)
	}
	return popup
}

// checkFits checks that the consent page's Approve and Deny buttons are within the
// viewport, unscrolled, of a 520x560 popup: the size at which they were found below the fold.
// Headless Chromium gives popups a size of its own, so the test sets the viewport.
func checkFits(t *testing.T, popup context.Context) {
	t.Helper()
	const width, height = 520, 560
	if _, err := chromedp.Call(popup, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: height, DeviceScaleFactor: 1,
	}); err != nil {
		t.Fatalf("sizing the popup: %v", err)
	}
	fit, err := chromedp.Run(popup, chromedp.Evaluate[map[string]float64](`(() => {
		const a = document.getElementById("approve").getBoundingClientRect();
		const d = document.getElementById("deny").getBoundingClientRect();
		return {bottom: Math.max(a.bottom, d.bottom), right: Math.max(a.right, d.right),
			width: innerWidth, height: innerHeight, scrollY: scrollY};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if fit["width"] != width || fit["height"] != height {
		t.Fatalf("the popup's viewport is %vx%v, want %dx%d", fit["width"], fit["height"], width, height)
	}
	if fit["scrollY"] != 0 || fit["bottom"] > height || fit["right"] > width {
		t.Errorf("Approve and Deny end at (%v, %v), outside the %dx%d viewport: the user must scroll to them",
			fit["right"], fit["bottom"], width, height)
	}
	saveScreenshot(t, popup, "consent.png")
}

// approveInPopup approves as the demo's user on the consent page in the popup.
func approveInPopup(t *testing.T, popup context.Context) {
	t.Helper()
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

// saveScreenshot saves a screenshot of the page under name, in CONNECT_SCREENSHOT_DIR if it
// is set.
func saveScreenshot(t *testing.T, page context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(page, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := t.TempDir()
	if keep := os.Getenv("CONNECT_SCREENSHOT_DIR"); keep != "" {
		dir = keep // to look at it after the test
	}
	path := filepath.Join(dir, name)
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
