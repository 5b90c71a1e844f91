package admin

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"schulhof/policy"
	"schulhof/store"
)

func blocklistService(t *testing.T) *Service {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test"}
}

func TestBlocklistAddRemoveList(t *testing.T) {
	s := blocklistService(t)
	res, err := s.BlocklistAdd("cli:root", []string{"TikTok.com", "https://www.Example.org/x", "bücher.de", "tiktok.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Added, []string{"tiktok.com", "www.example.org", "xn--bcher-kva.de"}) || !slices.Equal(res.Unchanged, []string{}) {
		t.Errorf("add: %+v", res)
	}
	res, err = s.BlocklistAdd("cli:root", []string{"tiktok.com"})
	if err != nil || len(res.Added) != 0 || !slices.Equal(res.Unchanged, []string{"tiktok.com"}) {
		t.Errorf("add again: %+v, %v", res, err)
	}
	// One bad name: nothing is added.
	_, err = s.BlocklistAdd("cli:root", []string{"good.example", "bad name", "schule.test", "test"})
	if err == nil || !strings.Contains(err.Error(), `"bad name"`) || !strings.Contains(err.Error(), "own domain") {
		t.Errorf("bad add: %v", err)
	}
	if _, err := s.BlocklistAdd("cli:root", nil); err == nil {
		t.Error("empty add accepted")
	}
	list, err := s.BlocklistList()
	if err != nil || !slices.Equal(list, []string{"tiktok.com", "www.example.org", "xn--bcher-kva.de"}) {
		t.Fatalf("list: %q, %v", list, err)
	}
	res, err = s.BlocklistRemove("cli:root", []string{"BÜCHER.de", "nope.example"})
	if err != nil || !slices.Equal(res.Removed, []string{"xn--bcher-kva.de"}) || !slices.Equal(res.Unchanged, []string{"nope.example"}) {
		t.Errorf("remove: %+v, %v", res, err)
	}
	// The policy sees the store's list.
	blocked, _ := s.Store.Blocklist()
	if d := policy.CheckLinks([]string{"vm.tiktok.com"}, blocked); d.Allow || d.Rule != policy.LinkBlock {
		t.Errorf("CheckLinks: %v", d)
	}
	audit, _ := s.Store.AuditLog(s.now().AddDate(0, 0, -1))
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	if !slices.Equal(actions, []string{"blocklist.add", "blocklist.add", "blocklist.remove"}) {
		t.Errorf("audit: %q", actions)
	}
}

func TestBlocklistImport(t *testing.T) {
	s := blocklistService(t)
	file := `# Sperrliste der Schule
tiktok.com
  Example.ORG   # trailing comment

0.0.0.0 ads.example
127.0.0.1 localhost
www.bücher.de
`
	res, err := s.BlocklistImport("cli:root", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tiktok.com", "example.org", "ads.example", "www.xn--bcher-kva.de"}
	if !slices.Equal(res.Added, want) || res.Lines != 4 {
		t.Errorf("import: %+v", res)
	}
	// Re-import changes nothing.
	res, err = s.BlocklistImport("cli:root", []byte(file))
	if err != nil || len(res.Added) != 0 || len(res.Unchanged) != 4 {
		t.Errorf("re-import: %+v, %v", res, err)
	}
	// Bad lines: all reported with their numbers, nothing imported.
	_, err = s.BlocklistImport("cli:root", []byte("new.example\nnot a domain\n\nexa<mple.com\nschule.test\n"))
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Lines) != 3 {
		t.Fatalf("bad import: %v", err)
	}
	for i, n := range []string{"line 2:", "line 4:", "line 5:"} {
		if !strings.HasPrefix(ie.Lines[i].Error(), n) {
			t.Errorf("problem %d = %q, want %s…", i, ie.Lines[i], n)
		}
	}
	if list, _ := s.BlocklistList(); slices.Contains(list, "new.example") {
		t.Error("a refused import added a domain")
	}
	if _, err := s.BlocklistImport("cli:root", make([]byte, maxBlocklistImport+1)); err == nil {
		t.Error("oversized import accepted")
	}
	// CRLF files and an empty file.
	if res, err := s.BlocklistImport("cli:root", []byte("crlf.example\r\n")); err != nil || !slices.Equal(res.Added, []string{"crlf.example"}) {
		t.Errorf("crlf: %+v, %v", res, err)
	}
	if res, err := s.BlocklistImport("cli:root", nil); err != nil || len(res.Added) != 0 {
		t.Errorf("empty: %+v, %v", res, err)
	}
}
