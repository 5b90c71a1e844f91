package admin

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"schulhof/store"
)

// TestExportUserOneAtATime: while an export of an account is blocked on a
// slow reader, a second one is refused with LIMIT-EXPORTS and leaves no
// audit record; the first finishes as a whole zip with its record.
func TestExportUserOneAtATime(t *testing.T) {
	s := newService(t)
	c, err := s.AddUser("t", NewUser{First: "Max", Last: "Müller"})
	if err != nil {
		t.Fatal(err)
	}
	name := c.Account.Name
	// 64 KiB of files: more than the zip writer buffers, so the export
	// blocks on the reader while it still runs.
	pb, err := s.Store.WriteBlob(bytes.NewReader(bytes.Repeat([]byte("x"), 64<<10)), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Store.FilePut(store.HomeTree(name), "/a.bin", store.PutFile{Blob: pb.Blob, Pending: true, ModTime: time.Now(), Limits: store.NoLimits()}); err != nil {
		t.Fatal(err)
	}
	pb.Release()
	pr, pw := io.Pipe()
	type result struct {
		st  ExportStats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := s.ExportUser("cli:erste", name, pw)
		pw.CloseWithError(err)
		done <- result{st, err}
	}()
	first := make([]byte, 1) // the first byte: the export is under way
	if _, err := io.ReadFull(pr, first); err != nil {
		t.Fatal(err)
	}
	_, err = s.ExportUser("cli:zweite", name, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "[LIMIT-EXPORTS]") {
		t.Fatalf("second export while the first runs: %v", err)
	}
	rest, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	r := <-done
	zipped := append(first, rest...)
	if r.err != nil || r.st.Bytes != int64(len(zipped)) {
		t.Fatalf("first export: %+v, %d bytes read", r, len(zipped))
	}
	if _, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExportUser("cli:dritte", "niemand", io.Discard); err == nil || !strings.Contains(err.Error(), "unknown user") {
		t.Fatalf("export of an unknown account: %v", err)
	}
	recs, _ := s.Store.AuditLog(time.Time{})
	var actors []string
	for _, rec := range recs {
		if rec.Action == "user.export" {
			actors = append(actors, rec.Actor+" "+rec.Target)
		}
	}
	if strings.Join(actors, ",") != "cli:erste "+name {
		t.Fatalf("user.export records: %v", actors)
	}
}
