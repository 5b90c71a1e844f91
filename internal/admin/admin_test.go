package admin

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

func newService(t testing.TB) *Service {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
}

func TestAddUser(t *testing.T) {
	s := newService(t)
	c, err := s.AddUser("t", NewUser{First: "Max", Last: "Müller", Groups: []string{"5A"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Account.Name != "max.mueller" || c.Address != "max.mueller@schule.test" || c.Password == "" || !c.Account.MustChange {
		t.Fatalf("%+v", c)
	}
	if c.Account.PasswordHash != "" {
		t.Fatal("admin output carries the password hash")
	}
	stored, _ := s.Store.Account("max.mueller")
	if ok, _ := auth.CheckPassword(c.Password, stored.PasswordHash); !ok {
		t.Fatal("printed one-time password does not match the stored hash")
	}
	if len(c.NewGroups) != 1 || c.NewGroups[0] != "5a" {
		t.Fatalf("group 5a not created: %+v", c.NewGroups)
	}
	c2, _ := s.AddUser("t", NewUser{First: "Max", Last: "Müller", Groups: []string{"5a"}})
	if c2.Account.Name != "max.mueller2" {
		t.Fatalf("second Max Müller: %s", c2.Account.Name)
	}
	if _, err := s.AddUser("t", NewUser{First: "Eva", Last: "Lang", Password: "schwach"}); err == nil || !strings.Contains(err.Error(), "[PW-STRENGTH]") {
		t.Fatalf("weak password: %v", err)
	}
	if _, err := s.AddUser("t", NewUser{First: "Eva", Last: "Lang", Role: "king"}); err == nil {
		t.Fatal("unknown role accepted")
	}
	if _, err := s.AddUser("t", NewUser{First: "Eva", Last: "Lang", Groups: []string{"../etc"}}); err == nil {
		t.Fatal("bad group name accepted")
	}
	c3, err := s.AddUser("t", NewUser{First: "Eva", Last: "Lang", Role: policy.Teacher, Groups: []string{"5a"}, Password: "Unterricht#2026"})
	if err != nil {
		t.Fatal(err)
	}
	if !c3.Account.MustChange || c3.Password != "" {
		t.Fatal("a given password must still be changed at first login and is not echoed")
	}
	g, _ := s.Store.Group("5a")
	if !g.IsTeacher("eva.lang") || len(g.Members) != 2 {
		t.Fatalf("group %+v", g)
	}
}

func TestLifecycleAudited(t *testing.T) {
	s := newService(t)
	c, _ := s.AddUser("admin1", NewUser{First: "Zoë", Last: "Groß"})
	name := c.Account.Name
	if name != "zoe.gross" {
		t.Fatal(name)
	}
	if err := s.Lock("admin1", name, ""); err == nil {
		t.Fatal("lock without reason")
	}
	if err := s.Lock("admin1", name, "Verstoß gegen die Nutzungsordnung"); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock("admin1", "no.body", "x"); err == nil || err.Error() != `unknown user "no.body"` {
		t.Fatalf("unknown user: %v", err)
	}
	if err := s.Unlock("admin1", name); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock("admin1", name); err == nil {
		t.Fatal("unlock of an unlocked account")
	}
	pw, err := s.ResetPassword("admin1", name)
	if err != nil || pw == "" {
		t.Fatal(err)
	}
	if err := s.SetPassword("admin1", name, "zoe!Gross2026"); err == nil {
		t.Fatal("password with own name accepted")
	}
	if err := s.SetPassword("admin1", name, "Blume#Wiese77"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Store.Account(name); a.MustChange {
		t.Fatal("must-change not cleared by passwd")
	}
	if _, err := s.DeleteUser("admin1", name); err != nil {
		t.Fatal(err)
	}
	log, _ := s.Store.AuditLog(time.Time{})
	var actions []string
	for _, r := range log {
		actions = append(actions, r.Action)
		if r.Actor != "admin1" {
			t.Errorf("audit actor %q", r.Actor)
		}
		// Only the erasure's own record names the erased person.
		if named := strings.Contains(r.Target+r.Detail, name); named != (r.Action == store.ActionErase) {
			t.Errorf("audit %s: target %q detail %q", r.Action, r.Target, r.Detail)
		}
	}
	want := "user.add user.lock user.unlock user.reset-password user.passwd privacy.erase"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit %v, want %s", actions, want)
	}
}

func TestExceptionsAndGroups(t *testing.T) {
	s := newService(t)
	s.AddUser("t", NewUser{First: "Max", Last: "Müller"})
	now := time.Now()
	if _, err := s.AddException("t", "max.mueller", 10<<20, now.Add(time.Hour), "x"); err == nil {
		t.Fatal("exception below the normal limit accepted")
	}
	if _, err := s.AddException("t", "max.mueller", 100<<20, now.Add(-time.Hour), "x"); err == nil {
		t.Fatal("exception in the past accepted")
	}
	if _, err := s.AddException("t", "max.mueller", 100<<20, now.Add(time.Hour), ""); err == nil {
		t.Fatal("exception without reason accepted")
	}
	if _, err := s.AddException("t", "no.body", 100<<20, now.Add(time.Hour), "Film-AG"); err == nil {
		t.Fatal("exception for unknown user accepted")
	}
	if _, err := s.AddException("t", "max.mueller", 100<<20, now.Add(time.Hour), "Film-AG"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Exceptions(); len(l) != 1 {
		t.Fatal(l)
	}
	if _, err := s.AddGroup("t", "Mathe LK", "course"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddGroup("t", "mathe-lk", "course"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("duplicate group: %v", err)
	}
	if _, err := s.AddGroup("t", "x", "club"); err == nil {
		t.Fatal("unknown kind accepted")
	}
	if _, err := s.ChangeMembers("t", "mathe-lk", store.AsTeacher, true, []string{"max.mueller"}); err == nil {
		t.Fatal("a student made teacher")
	}
	if _, err := s.ChangeMembers("t", "mathe-lk", store.AsMember, true, []string{"max.mueller", "no.body"}); err == nil {
		t.Fatal("unknown member accepted")
	}
	if g, _ := s.Store.Group("mathe-lk"); len(g.Members) != 0 {
		t.Fatal("half-applied member change")
	}
}

const pupils = "Vorname;Nachname;Klasse;Rolle\r\n" +
	"Max;Müller;5a;Schüler\r\n" +
	"Max;Müller;5b;Schüler\r\n" +
	"Zoë;Groß;5a;\r\n" +
	"Anna-Lena;de la Cruz;6c;Schülerin\r\n" +
	"Eva;Lang;5a;Lehrerin\r\n"

func TestImport(t *testing.T) {
	s := newService(t)
	dry, err := s.ImportUsers("t", []byte(pupils), ImportOptions{DryRun: true})
	if err != nil || len(dry.Created) != 5 || len(dry.NewGroups) != 3 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if all, _ := s.Store.Accounts(); len(all) != 0 {
		t.Fatal("dry run wrote accounts")
	}
	res, err := s.ImportUsers("t", []byte(pupils), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Created {
		names = append(names, c.Account.Name)
		if c.Password == "" {
			t.Error("no initial password")
		}
	}
	if strings.Join(names, " ") != "max.mueller max.mueller2 zoe.gross anna-lena.de-la-cruz eva.lang" {
		t.Fatalf("created %v", names)
	}
	g, _ := s.Store.Group("5a")
	if !g.IsTeacher("eva.lang") || !g.HasMember("max.mueller") || g.HasMember("max.mueller2") || g.Kind != "class" {
		t.Fatalf("5a: %+v", g)
	}

	// Re-import: nothing changes.
	again, err := s.ImportUsers("t", []byte(pupils), ImportOptions{})
	if err != nil || len(again.Created) != 0 || len(again.Moved) != 0 || again.Unchanged != 5 {
		t.Fatalf("re-import: %+v %v", again, err)
	}

	// Next school year: the two Max Müller swap… no: one moves up, Zoë left.
	next := "Vorname;Nachname;Klasse;Rolle\r\nMax;Müller;6a;S\r\nMax;Müller;5b;S\r\nAnna-Lena;de la Cruz;7c;S\r\nEva;Lang;6a;L\r\n"
	res, err = s.ImportUsers("t", []byte(next), ImportOptions{Sync: true, DryRun: true})
	if err != nil || len(res.Locked) != 1 || res.Locked[0] != "zoe.gross" || len(res.Moved) != 2 {
		t.Fatalf("sync dry run: %+v %v", res, err)
	}
	res, err = s.ImportUsers("t", []byte(next), ImportOptions{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	if z, _ := s.Store.Account("zoe.gross"); !z.Locked {
		t.Fatal("--sync did not lock the account missing from the file")
	}
	if g, _ := s.Store.Group("5a"); g.HasMember("max.mueller") {
		t.Fatal("moved pupil still in the old class")
	}
	if g, _ := s.Store.Group("6a"); !g.HasMember("max.mueller") || !g.IsTeacher("eva.lang") {
		t.Fatalf("6a: %+v", g)
	}
	// Zoë comes back: unlocked again.
	res, err = s.ImportUsers("t", []byte(next+"Zoë;Groß;6a;\r\n"), ImportOptions{})
	if err != nil || len(res.Unlocked) != 1 {
		t.Fatalf("return: %+v %v", res, err)
	}
	if z, _ := s.Store.Account("zoe.gross"); z.Locked {
		t.Fatal("returning pupil still locked")
	}
}

func TestImportEncodings(t *testing.T) {
	win, _ := charmap.Windows1252.NewEncoder().String("Vorname;Nachname;Klasse;Rolle\r\nJürgen;Groß;7b;Lehrer\r\n")
	cases := map[string]string{
		"windows-1252": win,
		"utf-8 bom":    "\xef\xbb\xbfVorname;Nachname;Klasse;Rolle\r\nJürgen;Groß;7b;Lehrer\r\n",
		"comma, lf":    "Vorname,Nachname,Klasse,Rolle\nJürgen,Groß,7b,Lehrer\n",
		"quoted":       "\"Vorname\";\"Nachname\";\"Klasse\";\"Rolle\"\n\"Jürgen\";\"Groß\";\"7b\";\"Lehrer\"\n",
	}
	for name, data := range cases {
		rows, errs := ParseUsersCSV([]byte(data))
		if len(errs) > 0 || len(rows) != 1 || rows[0].First != "Jürgen" || rows[0].Last != "Groß" || rows[0].Class != "7b" || rows[0].Role != policy.Teacher {
			t.Errorf("%s: %+v %v", name, rows, errs)
		}
	}
}

func TestImportRefusesMalformedRowsWhole(t *testing.T) {
	s := newService(t)
	bad := "Vorname;Nachname;Klasse;Rolle\nMax;Müller;5a;S\n;Ohnevorname;5a;S\nEva;Lang;5/a;S\nTim;Kurz;5a;Hausmeister\nOla;\"kaputt;5a;S\n"
	_, err := s.ImportUsers("t", []byte(bad), ImportOptions{})
	if err == nil {
		t.Fatal("malformed file imported")
	}
	for _, want := range []string{"line 3:", "line 4:", "line 5:", "line 6:", "nothing was imported"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if all, _ := s.Store.Accounts(); len(all) != 0 {
		t.Fatalf("half-imported: %d accounts", len(all))
	}
	for name, data := range map[string]string{
		"no header columns": "Name;Klasse\nMax;5a\n",
		"unknown column":    "Vorname;Nachname;Schuhgröße\nMax;Müller;42\n",
		"too few fields":    "Vorname;Nachname;Klasse;Rolle\nMax;Müller\n",
		"duplicate person":  "Vorname;Nachname;Klasse;Rolle\nMax;Müller;5a;S\nMax;Müller;5a;S\n",
		"duplicate ID":      "ID;Vorname;Nachname;Klasse;Rolle\n1;Max;Müller;5a;S\n1;Eva;Lang;5a;S\n",
	} {
		if _, err := s.ImportUsers("t", []byte(data), ImportOptions{}); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
}

func TestImportWithIDs(t *testing.T) {
	s := newService(t)
	file := "ID;Vorname;Nachname;Klasse;Rolle\n100;Max;Müller;5a;S\n101;Max;Müller;5a;S\n"
	res, err := s.ImportUsers("t", []byte(file), ImportOptions{})
	if err != nil || len(res.Created) != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	// The name changes at the office (marriage, typo fix): the ID keeps the account.
	file2 := "ID;Vorname;Nachname;Klasse;Rolle\n100;Max;Müller;6a;S\n101;Max;Müller;5a;S\n"
	res, err = s.ImportUsers("t", []byte(file2), ImportOptions{})
	if err != nil || len(res.Created) != 0 || len(res.Moved) != 1 || res.Moved[0].Name != "max.mueller" {
		t.Fatalf("%+v %v", res, err)
	}
	a, _ := s.Store.AccountByExternalID("101")
	if a.Name != "max.mueller2" {
		t.Fatal(a.Name)
	}
}

// pupilCSV makes an import file of n pupils in classes 5a..10d.
func pupilCSV(n int) []byte {
	var b strings.Builder
	b.WriteString("Vorname;Nachname;Klasse;Rolle\r\n")
	first := []string{"Max", "Zoë", "Jürgen", "Anna-Lena", "Ömer", "Lea", "Finn", "Mia", "Paul", "Emma"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s;Nachname%d;%d%c;Schüler\r\n", first[i%len(first)], i, 5+i%6, 'a'+byte(i%4))
	}
	return []byte(b.String())
}

func BenchmarkImport3000(b *testing.B) {
	data := pupilCSV(3000)
	for b.Loop() {
		b.StopTimer()
		s := newService(b)
		b.StartTimer()
		res, err := s.ImportUsers("bench", data, ImportOptions{})
		if err != nil || len(res.Created) != 3000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkReimport3000(b *testing.B) {
	data := pupilCSV(3000)
	s := newService(b)
	if _, err := s.ImportUsers("bench", data, ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := s.ImportUsers("bench", data, ImportOptions{})
		if err != nil || res.Unchanged != 3000 {
			b.Fatal(err)
		}
	}
}

// FuzzParseUsersCSV: no input makes the import parser panic, and every row
// it accepts has the names and class shape the importer relies on.
func FuzzParseUsersCSV(f *testing.F) {
	f.Add([]byte(pupils))
	f.Add([]byte("\xef\xbb\xbfVorname,Nachname,Klasse,Rolle\nZoë,Groß,7b,L\n"))
	f.Add([]byte("ID;Vorname;Nachname;Klasse;Rolle\n1;\"A;B\";C;5a;S\n"))
	f.Add([]byte("Vorname;Nachname\n\xe4\xf6\xfc;\xdf\n"))
	f.Add([]byte("Vorname;Nachname;Klasse;Rolle\nMax;\"kaputt;5a;S\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _ := ParseUsersCSV(data)
		for _, r := range rows {
			if _, d := policy.AccountBase(r.First, r.Last); !d.Allow {
				t.Fatalf("accepted row with unusable names: %+v", r)
			}
			if r.Class != "" {
				if n, d := policy.GroupName(r.Class); !d.Allow || n != r.Class {
					t.Fatalf("accepted row with bad class: %+v", r)
				}
			}
		}
	})
}

// TestNamesOverTheBound: a person whose account name would be longer than
// account_name_bytes is refused with LIMIT-NAME, never stored under a cut
// or over-long name; the same for a collision suffix, long first or last
// names and group names. In an import only that row is refused, with its
// line number, and the others are imported.
func TestNamesOverTheBound(t *testing.T) {
	s := newService(t)
	first, last := strings.Repeat("Anna", 8), strings.Repeat("Schmidt", 4)+"ab" // 32 + "." + 30 = 63 bytes
	c, err := s.AddUser("t", NewUser{First: first, Last: last, Password: "Str0ng!Passw0rd"})
	if err != nil || len(c.Account.Name) != 63 {
		t.Fatalf("63 bytes: %+v %v", c.Account.Name, err)
	}
	refusedName := func(err error, key string) {
		t.Helper()
		var re *policy.RefusalError
		if !errors.As(err, &re) || re.Decision.Rule != policy.LimitName || !strings.Contains(err.Error(), key) {
			t.Fatalf("want LIMIT-NAME naming %s, got %v", key, err)
		}
	}
	_, err = s.AddUser("t", NewUser{First: first, Last: last + "cd", Password: "Str0ng!Passw0rd"}) // 65
	refusedName(err, "account_name_bytes")
	_, err = s.AddUser("t", NewUser{First: first, Last: last, Password: "Str0ng!Passw0rd"}) // …ab2: 64, fine
	if err != nil {
		t.Fatalf("suffix at the bound: %v", err)
	}
	if _, err = s.AddUser("t", NewUser{First: first, Last: last + "c", Password: "Str0ng!Passw0rd"}); err != nil { // 64
		t.Fatalf("64 bytes: %v", err)
	}
	_, err = s.AddUser("t", NewUser{First: first, Last: last + "c", Password: "Str0ng!Passw0rd"}) // …abc2: 65
	refusedName(err, "account_name_bytes")
	_, err = s.AddUser("t", NewUser{First: strings.Repeat("x", 101), Last: "Y", Password: "Str0ng!Passw0rd"})
	refusedName(err, "person_name_bytes")
	_, err = s.AddUser("t", NewUser{First: "Bo", Last: "Li", Groups: []string{strings.Repeat("g", 65)}, Password: "Str0ng!Passw0rd"})
	refusedName(err, "group_name_bytes")
	_, err = s.AddGroup("t", strings.Repeat("g", 65), "course")
	refusedName(err, "group_name_bytes")
	accounts, _ := s.Store.Accounts()
	for _, a := range accounts {
		if len(a.Name) > 64 {
			t.Errorf("account %q stored over the bound", a.Name)
		}
	}
	if len(accounts) != 3 {
		t.Errorf("%d accounts, want 3", len(accounts))
	}

	// Import: line 3 would be over the bound, lines 2 and 4 are imported.
	csv := "Vorname;Nachname;Klasse\r\nEva;Lang;5a\r\n" + strings.Repeat("Maximilian", 4) + ";" + strings.Repeat("Mustermann", 3) + ";5a\r\nJan;Berg;5a\r\n"
	res, err := s.ImportUsers("t", []byte(csv), ImportOptions{DryRun: true})
	if err != nil || len(res.Created) != 2 || len(res.Refused) != 1 || res.Refused[0].Line != 3 {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	res, err = s.ImportUsers("t", []byte(csv), ImportOptions{})
	if err != nil || len(res.Created) != 2 || len(res.Refused) != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if r := res.Refused[0]; r.Line != 3 || !strings.HasPrefix(r.Reason, "[LIMIT-NAME]") || !strings.Contains(r.Reason, "account_name_bytes") {
		t.Errorf("refused row: %+v", r)
	}
	for _, n := range []string{"eva.lang", "jan.berg"} {
		if _, err := s.Store.Account(n); err != nil {
			t.Errorf("%s not imported: %v", n, err)
		}
	}
	// Long first names or classes in a file are errors of the file, with
	// their line.
	_, err = s.ImportUsers("t", []byte("Vorname;Nachname;Klasse\r\nEva;Lang;5a\r\nEva;"+strings.Repeat("x", 101)+";5a\r\n"), ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 3: [LIMIT-NAME]") {
		t.Errorf("long last name: %v", err)
	}
	_, err = s.ImportUsers("t", []byte("Vorname;Nachname;Klasse\r\nEva;Lang;"+strings.Repeat("k", 65)+"\r\n"), ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 2: [LIMIT-NAME]") {
		t.Errorf("long class: %v", err)
	}
}
