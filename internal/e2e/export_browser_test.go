package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"schulhof/store"
)

// TestBrowserExportButton: in headless Chromium, "Meine Daten
// herunterladen" on Mein Konto (a form POST under the portal's strict
// CSP) downloads a zip that opens, starts with the README and holds the
// person's account and the trace of this very download.
func TestBrowserExportButton(t *testing.T) {
	chromium := requireChromium(t)
	dir := filepath.Join(t.TempDir(), "data")
	port := freePort(t)
	cfg := filepath.Join(filepath.Dir(dir), "export-browser.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("domain = \"schule.test\"\ndata_dir = %q\n[listen]\nsubmission = \"\"\nsubmissions = \"\"\nimap = \"\"\nimaps = \"\"\nhttps = \"127.0.0.1:%d\"\n", dir, port)), 0o600)
	Start(t, cfg)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", "Max", "--last", "Müller", "--group", "5a", "--password-stdin")
	ok(t, cfg, pw+"\n", "user", "passwd", "max.mueller", "--password-stdin")

	ctx := newBrowser(t, chromium, 1024, 760)
	login(t, ctx, base, "max.mueller", pw)
	downloads := t.TempDir()
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.Events(wait, browser.DownloadProgress)
	events := true
	run(t, ctx, chromedp.Navigate(base+"/konto"), chromedp.WaitVisible(chromedp.CSS("#export")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &events})
			return err
		}),
		chromedp.Click(chromedp.CSS("#export")))
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(downloads, ev.GUID)
			break
		}
	}
	if file == "" {
		t.Fatal("no completed download")
	}
	z := readZip(t, file) // README.txt first, every CRC checked
	var konto map[string]any
	if err := json.Unmarshal(z["konto.json"], &konto); err != nil || konto["name"] != "max.mueller" {
		t.Fatalf("konto.json: %s (%v)", z["konto.json"], err)
	}
	var admin []store.AuditRecord
	json.Unmarshal(z["verwaltung.json"], &admin)
	self := false
	for _, r := range admin {
		self = self || r.Action == "user.export-self"
	}
	if !self {
		t.Fatalf("verwaltung.json lacks this download: %s", z["verwaltung.json"])
	}
}
