package carddavd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"schulhof/internal/auth"
	"schulhof/internal/bench"
	"schulhof/policy"
	"schulhof/store"
)

const benchPW = "Str0ng!Passw0rd"

// school seeds a school of 3,000 pupils in 100 classes of 30 and 300
// teachers, each teaching three classes: 3,300 accounts with records of
// a real size (hash, consents, login data). Only the first teacher's
// password hash is real.
func school(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	st, err := store.Open(tb.TempDir(), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	hash, err := auth.HashPassword(benchPW, auth.OneTimeParams)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UTC()
	consent := &store.ConsentRecord{GivenOn: "2026-09-01", GivenBy: "eltern", Form: "2026-1", RecordedAt: now, RecordedBy: "admin"}
	err = st.Update(func(t *store.Tx) error {
		add := func(first, last, role string) string {
			a, err := t.CreateAccount(store.Account{First: first, Last: last, Role: role, PasswordHash: hash,
				ConsentPlatform: true, ConsentComms: true, PlatformConsent: consent, CommsConsent: consent,
				CreatedAt: now, CreatedBy: "import", LastLoginAt: now, LastLoginIP: "10.1.2.3", BirthDate: "2014-01-01",
				Nickname: "Spitzname " + last}, func(n int) string {
				if n == 1 {
					return first + "." + last
				}
				return fmt.Sprintf("%s.%s%d", first, last, n)
			})
			if err != nil {
				tb.Fatal(err)
			}
			return a.Name
		}
		for g := range 100 {
			if err := t.CreateGroup(store.Group{Name: fmt.Sprintf("k%03d", g), Kind: "class"}); err != nil {
				return err
			}
		}
		for i := range 3000 {
			n := add("schueler", fmt.Sprintf("nr%04d", i), "student")
			if _, err := t.AddToGroup(fmt.Sprintf("k%03d", i%100), store.AsMember, n); err != nil {
				return err
			}
		}
		for i := range 300 {
			n := add("lehrer", fmt.Sprintf("nr%03d", i), "teacher")
			for k := range 3 {
				if _, err := t.AddToGroup(fmt.Sprintf("k%03d", (i+k*37)%100), store.AsTeacher, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st, "lehrer.nr001"
}

func benchServer(tb testing.TB, st *store.Store) *httptest.Server {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute, Logger: log})
	tb.Cleanup(v.Close)
	h := New(Options{Store: st, Auth: v, Policy: policy.NewEngine(), Logger: log, Domain: "schule.test",
		Modules: map[policy.Module]policy.ModuleSetting{policy.ModuleAddressBook: {On: true}}})
	mux := http.NewServeMux()
	mux.Handle(Prefix, h)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

// BenchmarkFullSyncClient is a client's first sync of a school of 3,300
// accounts, as vdirsyncer and DAVx⁵ do it: a Depth 1 PROPFIND for the
// ETags, then one addressbook-multiget of every card, over loopback HTTP
// with go-webdav's client. It reports the p50 and p99 of one whole sync.
//
//	go test -run '^$' -bench BenchmarkFullSyncClient -benchtime 30x ./carddavd
func BenchmarkFullSyncClient(b *testing.B) {
	st, me := school(b)
	srv := benchServer(b, st)
	ctx := context.Background()
	c, err := carddav.NewClient(webdav.HTTPClientWithBasicAuth(srv.Client(), me, benchPW), srv.URL+Prefix)
	if err != nil {
		b.Fatal(err)
	}
	wc, err := webdav.NewClient(webdav.HTTPClientWithBasicAuth(srv.Client(), me, benchPW), srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	book := bookPath(me)
	sync := func() int {
		list, err := wc.ReadDir(ctx, book, false) // Depth 1 PROPFIND: hrefs and ETags
		if err != nil {
			b.Fatal(err)
		}
		var paths []string
		for _, f := range list {
			if !f.IsDir {
				paths = append(paths, f.Path)
			}
		}
		objs, err := c.MultiGetAddressBook(ctx, book, &carddav.AddressBookMultiGet{Paths: paths,
			DataRequest: carddav.AddressDataRequest{AllProp: true}})
		if err != nil {
			b.Fatal(err)
		}
		return len(objs)
	}
	timeSyncs(b, sync)
}

// timeSyncs checks that one sync returns the whole school, then times
// sync in the benchmark loop and reports the p50 and p99 of one sync (the
// Client and Server benchmarks share it).
func timeSyncs(b *testing.B, sync func() int) {
	if n := sync(); n != 3300 {
		b.Fatalf("%d cards, want 3300", n)
	}
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		sync()
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(bench.Percentile(lat, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(bench.Percentile(lat, 99).Microseconds())/1000, "p99-ms")
}

// BenchmarkFullSyncServer is the same sync as raw requests whose answers
// are read and counted but not decoded: the server's share of a sync.
//
//	go test -run '^$' -bench BenchmarkFullSyncServer -benchtime 30x ./carddavd
func BenchmarkFullSyncServer(b *testing.B) {
	st, me := school(b)
	srv := benchServer(b, st)
	book := bookPath(me)
	do := func(method, body, depth string) []byte {
		req, _ := http.NewRequest(method, srv.URL+book, strings.NewReader(body))
		req.SetBasicAuth(me, benchPW)
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
		req.Header.Set("Depth", depth)
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusMultiStatus {
			b.Fatalf("%s: %d %v", method, resp.StatusCode, err)
		}
		return out
	}
	hrefRE := regexp.MustCompile(`<href>([^<]+\.vcf)</href>`)
	sync := func() int {
		list := do("PROPFIND", `<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/><getcontenttype/><getetag/></prop></propfind>`, "1")
		var mg strings.Builder
		mg.WriteString(`<?xml version="1.0"?><C:addressbook-multiget xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><getetag/><C:address-data/></prop>`)
		for _, m := range hrefRE.FindAllSubmatch(list, -1) {
			mg.WriteString("<href>" + string(m[1]) + "</href>")
		}
		mg.WriteString("</C:addressbook-multiget>")
		return bytes.Count(do("REPORT", mg.String(), "1"), []byte("BEGIN:VCARD"))
	}
	timeSyncs(b, sync)
}

// BenchmarkMultigetTen fetches ten cards of the 3,300: it reads ten
// accounts and the groups, not the school.
//
//	go test -run '^$' -bench BenchmarkMultigetTen ./carddavd
func BenchmarkMultigetTen(b *testing.B) {
	st, me := school(b)
	srv := benchServer(b, st)
	ctx := context.Background()
	c, err := carddav.NewClient(webdav.HTTPClientWithBasicAuth(srv.Client(), me, benchPW), srv.URL+Prefix)
	if err != nil {
		b.Fatal(err)
	}
	book := bookPath(me)
	var paths []string
	for i := range 10 {
		paths = append(paths, fmt.Sprintf("%sschueler.nr%04d.vcf", book, i*7))
	}
	b.ReportAllocs()
	for b.Loop() {
		objs, err := c.MultiGetAddressBook(ctx, book, &carddav.AddressBookMultiGet{Paths: paths,
			DataRequest: carddav.AddressDataRequest{AllProp: true}})
		if err != nil || len(objs) != 10 {
			b.Fatalf("%d %v", len(objs), err)
		}
	}
}
