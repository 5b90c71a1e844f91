package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/chromedp/chromedp"
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
