package store

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// exportZip runs ExportAccount into a zip in memory and opens it.
func exportZip(t *testing.T, s *Store, account string) (*zip.Reader, map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	z := NewZipSink(&buf)
	if err := s.ExportAccount(account, z); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err) // a CRC mismatch shows here
		}
		files[f.Name] = b
	}
	return zr, files
}

func putContent(t *testing.T, s *Store, tr Tree, p string, content []byte) {
	t.Helper()
	putBytesAs(t, s, tr, p, content, "")
}

func putBytesAs(t *testing.T, s *Store, tr Tree, p string, content []byte, uploader string) {
	t.Helper()
	pb, err := s.WriteContent(bytes.NewReader(content), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	if _, _, err := s.FilePut(tr, p, PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, ModTime: time.Now(), Limits: NoLimits(), Uploader: uploader}); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

// TestExportAccount: one person's zip holds her mail per folder (bytes as
// stored), her home tree (hashes match, empty folder kept, unsafe names
// made safe), her chat messages and reports, her account with consents,
// no password hash, and nothing of her classmate.
func TestExportAccount(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	mkAccount(t, s, "ben")
	if _, err := s.UpdateAccount("anna", func(a *Account) error {
		a.PasswordHash = "$argon2id$v=19$SECRETHASH"
		a.ConsentPlatform, a.ConsentComms, a.Nickname, a.Color = true, true, "Nanni", "#1565c0"
		a.Settings = map[string]string{"lang": "de"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(Group{Name: "5a", Kind: "class", Members: []string{"anna", "ben"}}); err != nil {
		t.Fatal(err)
	}

	// Mail: two in INBOX (one shared with ben), one in a nested folder
	// with an unsafe name; ben has one of his own.
	want := map[string]string{} // message body → folder
	deliver(t, s, "Subject: an beide\r\n\r\nfuer beide\r\n", "anna", "ben")
	deliver(t, s, "Subject: an anna\r\n\r\nnur anna\r\n", "anna")
	deliver(t, s, "Subject: geheim\r\n\r\nBEN-PRIVATE-MAIL\r\n", "ben")
	if _, err := s.CreateMailbox("anna", `Schule/Mathe: "Bruch"?`, ""); err != nil {
		t.Fatal(err)
	}
	pb, err := s.WriteBlob(strings.NewReader("Subject: abgelegt\r\n\r\nim Ordner\r\n"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append("anna", `Schule/Mathe: "Bruch"?`, NewMessage{Blob: pb, Meta: []byte(`{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	pb.Release()
	// A sub-folder named like a message file of its parent.
	if _, err := s.CreateMailbox("anna", "INBOX/000001.eml", ""); err != nil {
		t.Fatal(err)
	}
	pb, err = s.WriteBlob(strings.NewReader("Subject: tief\r\n\r\nim Unterordner\r\n"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append("anna", "INBOX/000001.eml", NewMessage{Blob: pb, Meta: []byte(`{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	pb.Release()
	want["fuer beide"], want["nur anna"], want["im Ordner"] = "mail/INBOX", "mail/INBOX", `mail/Schule/Mathe_ _Bruch__`
	want["im Unterordner"] = "mail/INBOX/000001.eml (Ordner)"
	inbox, err := s.MailboxByName("anna", Inbox)
	if err != nil {
		t.Fatal(err)
	}
	// A keyword no message carries any more is still in the folder's list.
	if _, err := s.StoreFlags(inbox.ID, []uint32{1}, FlagsAdd, []string{"$Alt"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreFlags(inbox.ID, []uint32{1}, FlagsRemove, []string{"$Alt"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreFlags(inbox.ID, []uint32{2}, FlagsAdd, []string{`\Seen`, "$Wichtig"}, nil); err != nil {
		t.Fatal(err)
	}

	// Files: nested, an empty folder, inline and blob content, names that
	// Windows refuses or that clash in case.
	home := HomeTree("anna")
	big := make([]byte, 1<<20+123)
	rand.NewChaCha8([32]byte{1}).Read(big)
	wantFiles := map[string][]byte{
		"dateien/Projekte/2026/Referat.txt": []byte("klein und inline"),
		"dateien/Projekte/video.bin":        big,
		"dateien/_CON.txt":                  []byte("reserviert"),
		"dateien/Bild.JPG":                  []byte("gross"),
		"dateien/bild (2).jpg":              []byte("klein"),
		"dateien/Frage_.txt":                []byte("fragezeichen"),
	}
	for _, dir := range []string{"/Projekte", "/Projekte/2026", "/Leer"} {
		if err := s.FileMkdir(home, dir, time.Now(), NoLimits()); err != nil {
			t.Fatal(err)
		}
	}
	putContent(t, s, home, "/Projekte/2026/Referat.txt", wantFiles["dateien/Projekte/2026/Referat.txt"])
	putContent(t, s, home, "/Projekte/video.bin", big)
	putContent(t, s, home, "/CON.txt", wantFiles["dateien/_CON.txt"])
	putContent(t, s, home, "/Bild.JPG", wantFiles["dateien/Bild.JPG"])
	putContent(t, s, home, "/bild.jpg", wantFiles["dateien/bild (2).jpg"])
	putContent(t, s, home, "/Frage?.txt", wantFiles["dateien/Frage_.txt"])
	putContent(t, s, HomeTree("ben"), "/ben.txt", []byte("BEN-PRIVATE-FILE"))
	// Group folder: anna's upload (in a subfolder) is hers, ben's is not.
	if err := s.FileMkdir(GroupTree("5a"), "/Bio", time.Now(), NoLimits()); err != nil {
		t.Fatal(err)
	}
	putBytesAs(t, s, GroupTree("5a"), "/Bio/anna-zelle.txt", []byte("Zellkern"), "anna")
	putBytesAs(t, s, GroupTree("5a"), "/Bio/ben.txt", []byte("BEN-PRIVATE-GROUPFILE"), "ben")
	wantFiles["dateien-gruppen/5a/Bio/anna-zelle.txt"] = []byte("Zellkern")
	for _, pp := range []struct {
		tr   Tree
		path string
		val  string
	}{{home, "/Projekte/2026/Referat.txt", "Referat-Attribut"}, {home, "/Projekte", "Ordner-Attribut"},
		{GroupTree("5a"), "/Bio/anna-zelle.txt", "Gruppen-Attribut"}, {GroupTree("5a"), "/Bio/ben.txt", "BEN-PRIVATE-PROP"}} {
		if err := s.FilePatchProps(pp.tr, pp.path, []PropOp{{Prop: DeadProp{Space: "urn:schemas-microsoft-com:", Local: "Win32FileAttributes", Inner: []byte(pp.val)}}}, NoLimits()); err != nil {
			t.Fatal(err)
		}
	}

	// Chat: anna writes twice (one edited), ben once; anna reports ben.
	room := GroupRoomID("5a")
	if _, err := s.PostMessage(room, "anna", "Hallo 5a", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	ben, err := s.PostMessage(room, "ben", "BEN-PRIVATE-CHAT", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dm := DirectRoomID("anna", "ben")
	m2, err := s.PostMessage(dm, "anna", "erste Fassung", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	edited := "zweite Fassung"
	if _, err := s.ChangeMessage(dm, m2.Seq, "anna", &edited, func(*ChatMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRead("anna", room, ben.Seq); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRead("ben", room, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateReport(room, ben.Seq, "anna", "unfreundlich", 3, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession("SESSION-ID-SECRET", WebSession{Account: "anna", CSRF: "CSRF-SECRET", Created: time.Now(), LastSeen: time.Now(), IP: "10.0.0.7"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLogin(LoginRecord{Time: time.Now(), Account: "anna", Protocol: "imap", IP: "10.0.0.7", OK: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLogin(LoginRecord{Time: time.Now(), Account: "ben", Protocol: "imap", IP: "10.9.9.9", OK: true}); err != nil {
		t.Fatal(err)
	}

	// Audit: an action on anna is hers; on ben and an inspection are not.
	for _, r := range []AuditRecord{{Actor: "admin", Action: "user.lock", Target: "anna", Detail: "Test"},
		{Actor: "admin", Action: "user.lock", Target: "ben", Detail: "BEN-PRIVATE-AUDIT"},
		{Actor: "pruefer", Action: "inspect.request", Target: "anna", Detail: "Fall 7"}} {
		if err := s.Update(func(t *Tx) error { return t.Audit(r) }); err != nil {
			t.Fatal(err)
		}
	}

	// Inspections: an approved one about anna is hers; a pending one and
	// one about ben are not.
	for _, in := range []Inspection{
		{Person: "anna", Scope: "chat", Reason: "Verdacht", Case: "AZ-1", RequestedBy: "p1", RequestedAt: time.Now(), ApprovedBy: "p2", ApprovedAt: time.Now()},
		{Person: "anna", Scope: "mail", Reason: "PENDING-SECRET", Case: "AZ-2", RequestedBy: "p1", RequestedAt: time.Now()},
		{Person: "ben", Scope: "mail", Reason: "BEN-PRIVATE-INSPECTION", Case: "AZ-3", RequestedBy: "p1", RequestedAt: time.Now(), ApprovedBy: "p2", ApprovedAt: time.Now()},
	} {
		if err := s.Update(func(t *Tx) error { return t.AddInspection(&in) }); err != nil {
			t.Fatal(err)
		}
	}

	zr, files := exportZip(t, s, "anna")
	if zr.File[0].Name != "README.txt" || !strings.Contains(string(files["README.txt"]), "Kategorie 4") {
		t.Fatalf("README.txt is not first or incomplete: %s", zr.File[0].Name)
	}
	all := bytes.Join(func() [][]byte {
		var out [][]byte
		for n, b := range files {
			out = append(out, []byte(n), b)
		}
		return out
	}(), nil)
	for _, secret := range []string{"BEN-PRIVATE", "Fall 7", "PENDING-SECRET", "SECRETHASH", "argon2", "SESSION-ID-SECRET", "CSRF-SECRET", SessionKey("SESSION-ID-SECRET"), "10.9.9.9"} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("export holds %q", secret)
		}
	}
	// Mail
	got := map[string]string{}
	for name, b := range files {
		if strings.HasSuffix(name, ".eml") {
			for body := range want {
				if bytes.Contains(b, []byte(body)) {
					got[body] = name[:strings.LastIndex(name, "/")]
				}
			}
		}
	}
	for body, dir := range want {
		if got[body] != dir {
			t.Errorf("message %q in %q, want %q", body, got[body], dir)
		}
	}
	var folders []struct {
		Name, Pfad    string
		Schlagwoerter []string
	}
	if err := json.Unmarshal(files["mail/ordner.json"], &folders); err != nil || len(folders) < 8 {
		t.Errorf("mail/ordner.json: %s (%v)", files["mail/ordner.json"], err)
	}
	for _, f := range folders {
		if f.Name == `Schule/Mathe: "Bruch"?` && f.Pfad != `mail/Schule/Mathe_ _Bruch__/` {
			t.Errorf("mail/ordner.json: %s is at %s", f.Name, f.Pfad)
		}
		if f.Name == "INBOX" && strings.Join(f.Schlagwoerter, " ") != "$Alt $Wichtig" {
			t.Errorf("mail/ordner.json: INBOX keywords %q", f.Schlagwoerter)
		}
	}
	var marks []struct {
		Datei        string
		Markierungen []string
	}
	if err := json.Unmarshal(files["mail/markierungen.json"], &marks); err != nil || len(marks) != 4 {
		t.Fatalf("mail/markierungen.json: %s (%v)", files["mail/markierungen.json"], err)
	}
	for _, m := range marks {
		if _, ok := files[m.Datei]; !ok {
			t.Errorf("mail/markierungen.json names %s, which is not in the zip", m.Datei)
		}
		if got := strings.Join(m.Markierungen, " "); (m.Datei == "mail/INBOX/000002.eml") != (got == `$Wichtig \Seen`) {
			t.Errorf("%s: flags %q", m.Datei, got)
		}
	}
	// Files
	for name, content := range wantFiles {
		if sha256.Sum256(files[name]) != sha256.Sum256(content) {
			t.Errorf("%s: content differs (%d bytes, want %d)", name, len(files[name]), len(content))
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "dateien-gruppen/") && !strings.HasSuffix(name, "/") && wantFiles[name] == nil {
			t.Errorf("%s in the export: not uploaded by anna", name)
		}
	}
	if _, ok := files["dateien/Leer/"]; !ok {
		t.Error("empty folder missing")
	}
	seen := map[string]string{}
	for _, f := range zr.File {
		for _, part := range strings.Split(strings.TrimSuffix(f.Name, "/"), "/") {
			if part != safeName(part) {
				t.Errorf("unsafe name %q in %q", part, f.Name)
			}
		}
		low := strings.ToLower(f.Name)
		if prev, dup := seen[low]; dup {
			t.Errorf("%q and %q clash on a case-insensitive disk", prev, f.Name)
		}
		seen[low] = f.Name
	}
	// JSON parts
	var consents map[string]any
	if err := json.Unmarshal(files["einwilligungen.json"], &consents); err != nil || consents["consent_platform"] != true || consents["consent_comms"] != true {
		t.Errorf("einwilligungen.json: %s (%v)", files["einwilligungen.json"], err)
	}
	var vol map[string]any
	if err := json.Unmarshal(files["freiwillige-angaben.json"], &vol); err != nil || vol["nickname"] != "Nanni" || vol["color"] != "#1565c0" {
		t.Errorf("freiwillige-angaben.json: %s (%v)", files["freiwillige-angaben.json"], err)
	}
	var konto map[string]any
	if err := json.Unmarshal(files["konto.json"], &konto); err != nil || konto["name"] != "anna" || konto["nickname"] != nil || konto["consent_comms"] != nil {
		t.Errorf("konto.json: %s (%v)", files["konto.json"], err)
	}
	var gruppen []struct{ Gruppe, Rolle string }
	if err := json.Unmarshal(files["gruppen.json"], &gruppen); err != nil || len(gruppen) != 1 || gruppen[0].Gruppe != "5a" || gruppen[0].Rolle != "Mitglied" {
		t.Errorf("gruppen.json: %s (%v)", files["gruppen.json"], err)
	}
	var audit []AuditRecord
	if err := json.Unmarshal(files["verwaltung.json"], &audit); err != nil || len(audit) != 1 || audit[0].Action != "user.lock" {
		t.Errorf("verwaltung.json: %s (%v)", files["verwaltung.json"], err)
	}
	var chat []chatExport
	if err := json.Unmarshal(files["chat.json"], &chat); err != nil || len(chat) != 2 {
		t.Fatalf("chat.json: %s (%v)", files["chat.json"], err)
	}
	texts := map[string]string{}
	for _, m := range chat {
		texts[m.Text] = m.RoomName
	}
	if texts["Hallo 5a"] != "Gruppe 5a" || texts["zweite Fassung"] != "Direktnachrichten mit ben" {
		t.Errorf("chat.json: %s", files["chat.json"])
	}
	var read []struct {
		Raum         string
		GelesenBisNr uint64 `json:"gelesen_bis_nr"`
	}
	if err := json.Unmarshal(files["chat-gelesen.json"], &read); err != nil || len(read) != 1 || read[0].Raum != room || read[0].GelesenBisNr != ben.Seq {
		t.Errorf("chat-gelesen.json: %s (%v)", files["chat-gelesen.json"], err)
	}
	var props []struct {
		Pfad          string
		Eigenschaften []struct{ Namensraum, Name, Wert string }
	}
	if err := json.Unmarshal(files["dateien-eigenschaften.json"], &props); err != nil || len(props) != 3 {
		t.Errorf("dateien-eigenschaften.json: %s (%v)", files["dateien-eigenschaften.json"], err)
	}
	gotProps := map[string]string{}
	for _, p := range props {
		for _, e := range p.Eigenschaften {
			gotProps[p.Pfad] = e.Wert
		}
	}
	if gotProps["dateien/Projekte/2026/Referat.txt"] != "Referat-Attribut" || gotProps["dateien/Projekte/"] != "Ordner-Attribut" ||
		gotProps["dateien-gruppen/5a/Bio/anna-zelle.txt"] != "Gruppen-Attribut" {
		t.Errorf("dateien-eigenschaften.json: %s", files["dateien-eigenschaften.json"])
	}
	var insp []struct{ Aktenzeichen string }
	if err := json.Unmarshal(files["einsichten.json"], &insp); err != nil || len(insp) != 1 || insp[0].Aktenzeichen != "AZ-1" {
		t.Errorf("einsichten.json: %s (%v)", files["einsichten.json"], err)
	}
	var logins []LoginRecord
	if err := json.Unmarshal(files["anmeldeprotokoll.json"], &logins); err != nil || len(logins) != 1 || logins[0].Account != "anna" {
		t.Errorf("anmeldeprotokoll.json: %s (%v)", files["anmeldeprotokoll.json"], err)
	}
	var reports []reportExport
	if err := json.Unmarshal(files["chat-meldungen.json"], &reports); err != nil || len(reports) != 1 || reports[0].Reason != "unfreundlich" {
		t.Errorf("chat-meldungen.json: %s (%v)", files["chat-meldungen.json"], err)
	}
	var sessions []map[string]any
	if err := json.Unmarshal(files["sitzungen.json"], &sessions); err != nil || len(sessions) != 1 || sessions[0]["ip"] != "10.0.0.7" {
		t.Errorf("sitzungen.json: %s (%v)", files["sitzungen.json"], err)
	}
	if err := s.ExportAccount("nobody", NewZipSink(io.Discard)); err == nil {
		t.Error("export of an unknown account succeeded")
	}
}

func TestSafeName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"INBOX", "INBOX"},
		{"Bericht: Teil 1?", "Bericht_ Teil 1_"},
		{`a<b>c"d\e|f*g`, "a_b_c_d_e_f_g"},
		{"nul", "_nul"},
		{"Com1.txt", "_Com1.txt"},
		{"COM10", "COM10"},
		{"ende. ", "ende"},
		{"...", "_"},
		{"", "_"},
		{"tab\there", "tab_here"},
		{"Grüße", "Grüße"},
		{"bad\xffutf8", "bad_utf8"},
		{strings.Repeat("ä", 100) + ".pdf", strings.Repeat("ä", 73) + ".pdf"},
	} {
		if got := safeName(c.in); got != c.want {
			t.Errorf("safeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	n := newSafeNames()
	if a, b, c := n.join("d", "X.txt"), n.join("d", "x.TXT"), n.join("d", "X.txt"); a != "d/X.txt" || b != "d/x (2).TXT" || c != a {
		t.Errorf("clash: %q %q %q", a, b, c)
	}
}

// TestEveryProviderIsExported: every privacy provider has an exporter or
// is declared in nothingToExport with the reason, and every exporter
// belongs to a provider: a new domain cannot be forgotten by the export.
func TestEveryProviderIsExported(t *testing.T) {
	providers := map[string]bool{}
	for _, p := range PrivacyProviders() {
		providers[p.Name] = true
		_, exported := privacyExporters[p.Name]
		reason, none := nothingToExport[p.Name]
		switch {
		case exported && none:
			t.Errorf("provider %q has an exporter and is declared as having nothing to export", p.Name)
		case !exported && !none:
			t.Errorf("provider %q has no exporter and is not declared in nothingToExport", p.Name)
		case none && reason == "":
			t.Errorf("provider %q: nothingToExport without a reason", p.Name)
		}
	}
	for _, n := range ExporterNames() {
		if !providers[n] {
			t.Errorf("exporter %q has no privacy provider of that name", n)
		}
	}
	for n := range nothingToExport {
		if !providers[n] {
			t.Errorf("nothingToExport names %q, which is no provider", n)
		}
	}
}

// TestEveryExporterHasReadme: the README explains every part.
func TestEveryExporterHasReadme(t *testing.T) {
	for _, n := range ExporterNames() {
		d, ok := exportDocs[n]
		if !ok || d.What == "" || d.Why == "" || categoryNames[d.Category] == "" {
			t.Errorf("exporter %q has no complete README section", n)
		}
	}
}

// TestExportMemory: exporting a home folder of EXPORT_TEST_MIB MiB
// (default 128; 1024 for the 1 GiB figure) keeps the heap flat: contents
// stream from the blob files, so the peak heap does not grow with the
// export's size.
func TestExportMemory(t *testing.T) {
	mib := 128
	if v := os.Getenv("EXPORT_TEST_MIB"); v != "" {
		mib, _ = strconv.Atoi(v)
	}
	if testing.Short() {
		mib = 16
	}
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	home := HomeTree("anna")
	// Four large files and many small ones in folders.
	per := int64(mib) << 20 / 4
	for i := range 4 {
		pb, err := s.WriteBlob(io.LimitReader(rand.NewChaCha8([32]byte{byte(i)}), per), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FilePut(home, fmt.Sprintf("/gross-%d.bin", i), PutFile{Blob: pb.Blob, Pending: true, ModTime: time.Now(), Limits: NoLimits()}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
	}
	for d := range 10 {
		if err := s.FileMkdir(home, fmt.Sprintf("/ordner-%d", d), time.Now(), NoLimits()); err != nil {
			t.Fatal(err)
		}
		for f := range 20 {
			putContent(t, s, home, fmt.Sprintf("/ordner-%d/datei-%d.txt", d, f), []byte(strings.Repeat("x", 100+f)))
		}
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	var n countWriter
	start := time.Now()
	z := NewZipSink(&n)
	if err := s.ExportAccount("anna", z); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	grown := int64(peak.Load()) - int64(base)
	t.Logf("exported %d MiB of files (zip %d bytes) in %v: heap in use before %.1f MiB, peak %.1f MiB (+%.1f MiB); process peak RSS %s",
		mib, n.n, took.Round(time.Millisecond), float64(base)/(1<<20), float64(peak.Load())/(1<<20), float64(grown)/(1<<20), vmHWM())
	if n.n < int64(mib)<<20 {
		t.Fatalf("zip is %d bytes, less than the %d MiB exported", n.n, mib)
	}
	if grown > 32<<20 {
		t.Fatalf("heap grew by %d MiB during the export", grown>>20)
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// vmHWM is the process's peak resident set (Linux), or "?".
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// hookSink runs a function before an entry is created (a change made
// by another session while the export runs).
type hookSink struct {
	*ZipSink
	before func(p string)
}

func (h hookSink) Create(p string, modified time.Time) (io.Writer, error) {
	h.before(p)
	return h.ZipSink.Create(p, modified)
}

// TestExportWhileChanging: a message expunged and a file removed by other
// sessions after the export listed them, but before it reached them, are
// left out; everything else is exported and the export does not fail.
func TestExportWhileChanging(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	for i := range 3 {
		deliver(t, s, fmt.Sprintf("Subject: %d\r\n\r\nNachricht %d\r\n", i, i), "anna")
	}
	home := HomeTree("anna")
	for i := range 3 {
		putContent(t, s, home, fmt.Sprintf("/datei-%d.bin", i), bytes.Repeat([]byte{byte('a' + i)}, 20<<10))
	}
	inbox, err := s.MailboxByName("anna", Inbox)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	z := hookSink{NewZipSink(&buf), func(p string) {
		switch p {
		case "mail/INBOX/000001.eml":
			if n, err := s.Expunge(inbox.ID, []uint32{3}, nil); err != nil || len(n) != 1 {
				t.Errorf("expunge: %v %v", n, err)
			}
		case "dateien/datei-0.bin":
			if err := s.FileRemove(home, "/datei-2.bin"); err != nil {
				t.Error(err)
			}
		}
	}}
	if err := s.ExportAccount("anna", z); err != nil {
		t.Fatal(err)
	}
	z.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range zr.File {
		got[f.Name] = true
	}
	for name, want := range map[string]bool{"mail/INBOX/000001.eml": true, "mail/INBOX/000002.eml": true, "mail/INBOX/000003.eml": false,
		"dateien/datei-0.bin": true, "dateien/datei-1.bin": true, "dateien/datei-2.bin": false} {
		if got[name] != want {
			t.Errorf("%s in the export: %v, want %v", name, got[name], want)
		}
	}
}
