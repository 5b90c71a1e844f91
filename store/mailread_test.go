package store

import (
	"errors"
	"io"
	"os"
	"testing"
)

// A reader holding a record from before an EXPUNGE gets the content if it
// opened it in time, else ErrMessageGone; a message whose blob is missing
// while it still exists is damage, not "gone".
func TestMailOpenMessageAfterExpunge(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	deliver(t, s, "Subject: a\r\n\r\nfirst\r\n", "anna")
	deliver(t, s, "Subject: b\r\n\r\nsecond\r\n", "anna")
	m := inbox(t, s, "anna")
	var one, two *Message
	s.View(func(tx *Tx) error {
		one, _ = tx.Message(m.ID, 1)
		two, _ = tx.Message(m.ID, 2)
		return nil
	})
	early, err := s.OpenMessage(m.ID, 1, one.Blob)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	if _, err := s.Expunge(m.ID, []uint32{1}, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(early); err != nil || string(b) != "Subject: a\r\n\r\nfirst\r\n" {
		t.Fatalf("opened before the EXPUNGE: %q %v", b, err)
	}
	if _, err := s.OpenMessage(m.ID, 1, one.Blob); !errors.Is(err, ErrMessageGone) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("opened after the EXPUNGE: %v, want ErrMessageGone", err)
	}
	if err := os.Remove(s.blobPath(two.Blob)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenMessage(m.ID, 2, two.Blob); err == nil || errors.Is(err, ErrMessageGone) {
		t.Fatalf("missing blob of a present message: %v", err)
	}
}
