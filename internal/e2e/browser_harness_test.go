package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// requireChromium returns the Chromium to drive. Missing, it fails the
// test in CI (CI=true) and skips it only on a laptop.
func requireChromium(t *testing.T) string {
	t.Helper()
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is required in CI (Debian package chromium)")
		}
		t.Skip("chromium not installed")
	}
	return chromium
}

// httpsOnlyConfig writes name (a .toml in a fresh temp dir) for a server
// that listens only on HTTPS at a free port, without metrics; extra is
// appended as further sections. It returns the config's path and the port.
func httpsOnlyConfig(t *testing.T, name, extra string) (string, int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	port := freePort(t)
	cfg := filepath.Join(filepath.Dir(dir), name)
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`domain = "schule.test"
data_dir = %q
[metrics]
listen = ""
[listen]
submission = ""
submissions = ""
imap = ""
imaps = ""
https = "127.0.0.1:%d"
`, dir, port)+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, port
}

// startHTTPSOnly starts the server of httpsOnlyConfig and returns it, its
// config's path and the portal's base URL.
func startHTTPSOnly(t *testing.T, name, extra string) (*Server, string, string) {
	t.Helper()
	cfg, port := httpsOnlyConfig(t, name, extra)
	srv := Start(t, cfg)
	return srv, cfg, fmt.Sprintf("https://127.0.0.1:%d", port)
}

// screenshotter returns shot(ctx, name): with SCREENSHOTS=1 it saves the
// page as docs/screenshots/<name>.png, otherwise it does nothing.
func screenshotter(t *testing.T) func(ctx context.Context, name string) {
	shots := os.Getenv("SCREENSHOTS") == "1"
	_, file, _, _ := runtime.Caller(0)
	shotDir := filepath.Join(filepath.Dir(file), "..", "..", "docs", "screenshots")
	return func(ctx context.Context, name string) {
		if !shots {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shotDir, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func findChromium() string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newBrowser starts one Chromium (its own profile: its own cookies).
func newBrowser(t *testing.T, path string, w, h int) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless, chromedp.IgnoreCertErrors,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(w, h))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func login(t *testing.T, ctx context.Context, base, name, pw string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#account")),
		chromedp.SendKeys(chromedp.CSS("#account"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".tiles")))
}

func openChat(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(url))
	waitState(t, ctx, "open", 10*time.Second)
}

// waitState waits for the chat page's connection state (body[data-chat]).
func waitState(t *testing.T, ctx context.Context, state string, d time.Duration) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, chromedp.WaitReady(chromedp.CSS(`body[data-chat="`+state+`"]`))); err != nil {
		now, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("body"), "data-chat"))
		t.Fatalf("chat state %q not reached within %v (is %q): %v", state, d, now.Value, err)
	}
}

func waitText(t *testing.T, ctx context.Context, sel, text string) {
	t.Helper()
	js := fmt.Sprintf(`(function(){var e=document.querySelector(%q);return !!e && e.textContent.indexOf(%q)>=0})()`, sel, text)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// a navigation in between loses the page's context: ask again
		c, cancel := context.WithTimeout(ctx, time.Until(deadline))
		_, err := chromedp.Run(c, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
			t.Fatalf("%s never showed %q (shows %q): %v", sel, text, got, err)
		}
	}
}

func say(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("#text")), chromedp.SendKeys(chromedp.CSS("#text"), text),
		chromedp.SendKeys(chromedp.CSS("#text"), kb.Enter)) // Enter sends, as people do
	waitText(t, ctx, "#messages", text)
}
