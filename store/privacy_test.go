package store

import (
	"strings"
	"testing"
)

// TestEveryBucketHasAProvider: every bucket of the file and of the buckets
// list is answered for by exactly one provider, and every bucket a
// provider names exists. A new bucket without a provider fails here.
func TestEveryBucketHasAProvider(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	owner := map[string]string{}
	for _, p := range PrivacyProviders() {
		if p.Keeps == "" || p.Retention == "" {
			t.Errorf("provider %s: Keeps and Retention must say what is kept and how long", p.Name)
		}
		if p.Name != "system" && (len(p.Categories) == 0 || p.Erase == nil) {
			t.Errorf("provider %s holds personal data but names no category or has no Erase", p.Name)
		}
		for _, c := range p.Categories {
			if c < CategoryRequired || c > CategoryVoluntary {
				t.Errorf("provider %s: category %d", p.Name, c)
			}
		}
		for _, b := range p.Buckets {
			if o, dup := owner[string(b)]; dup {
				t.Errorf("bucket %s named by %s and %s", b, o, p.Name)
			}
			owner[string(b)] = p.Name
		}
	}
	inFile, err := s.bucketNames()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, b := range buckets {
		listed[string(b)] = true
	}
	for _, b := range inFile {
		if owner[b] == "" {
			t.Errorf("bucket %s in the database has no privacy provider", b)
		}
		if !listed[b] {
			t.Errorf("bucket %s in the database is not in the buckets list", b)
		}
	}
	for b := range listed {
		if owner[b] == "" {
			t.Errorf("bucket %s of the buckets list has no privacy provider", b)
		}
	}
	file := map[string]bool{}
	for _, b := range inFile {
		file[b] = true
	}
	for b, p := range owner {
		if !file[b] {
			t.Errorf("provider %s names bucket %s, which does not exist", p, b)
		}
	}
	for _, want := range []string{"accounts", "loginlog", "audit", "exceptions", "groups", "mail", "files", "chat", "chatreports", "websessions", "system"} {
		found := false
		for _, p := range PrivacyProviders() {
			found = found || p.Name == want
		}
		if !found {
			t.Errorf("no provider %q", want)
		}
	}
}

func TestRedactName(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"anna.b", ErasedName},
		{"role=student anna.b,carl.d", "role=student " + ErasedName + ",carl.d"},
		{"anna.b2", "anna.b2"},
		{"hanna.b", "hanna.b"},
		{"cli:anna.b", "cli:" + ErasedName},
		{"", ""},
	} {
		if got := redactName(c.in, "anna.b"); got != c.out {
			t.Errorf("redactName(%q) = %q, want %q", c.in, got, c.out)
		}
	}
	if strings.Contains(redactName("anna.b anna.b", "anna.b"), "anna.b") {
		t.Error("second occurrence kept")
	}
}
