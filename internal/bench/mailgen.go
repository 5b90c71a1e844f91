package bench

// The same messages for every server under test: GenMessage is
// deterministic in (seed, i), so a store filled through Schulhof's store
// APIs (schulhof bench fill) and a Dovecot maildir written by WriteMaildir
// hold byte-identical mailboxes.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// genEpoch is the Date of message 0; message i is i minutes later.
var genEpoch = time.Date(2024, 9, 1, 7, 0, 0, 0, time.UTC)

// GenMessage returns message i of a generated mailbox for address to, of
// minSize..maxSize bytes. About half the messages are unseen in a filled
// mailbox (see GenSeen).
func GenMessage(seed uint64, i int, to string, minSize, maxSize int) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	size := minSize
	if maxSize > minSize {
		size += rng.IntN(maxSize - minSize)
	}
	from := fmt.Sprintf("lehrer%d@schule.test", rng.IntN(300))
	return compose(rng, fmt.Sprintf("Lehrkraft %d <%s>", i%300, from), to, GenDate(i), int64(i), size)
}

// GenSeen says whether generated message i starts \Seen (every other one).
func GenSeen(i int) bool { return i%2 == 0 }

// GenDate is generated message i's internal date.
func GenDate(i int) time.Time { return genEpoch.Add(time.Duration(i) * time.Minute) }

// WriteMaildir writes messages first..first+n-1 of the generated mailbox
// into a Maildir++ INBOX at dir (cur/, with :2,S for the seen ones), as
// Dovecot reads it: on the next SELECT it indexes them. Files are owned by
// uid:gid when uid >= 0.
func WriteMaildir(dir string, seed uint64, first, n int, to string, minSize, maxSize, uid, gid int) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	for i := first; i < first+n; i++ {
		flags := ""
		if GenSeen(i) {
			flags = "S"
		}
		name := filepath.Join(dir, "cur", fmt.Sprintf("%d.M%dP1.bench,S=%d:2,%s", GenDate(i).Unix(), i, 0, flags))
		msg := GenMessage(seed, i, to, minSize, maxSize)
		// S= is the size Dovecot trusts instead of stat'ing the file.
		name = strings.Replace(name, ",S=0:", fmt.Sprintf(",S=%d:", len(msg)), 1)
		if err := os.WriteFile(name, msg, 0o600); err != nil {
			return err
		}
		t := GenDate(i)
		os.Chtimes(name, t, t) // Dovecot takes the internal date from the mtime
		if uid >= 0 {
			if err := os.Chown(name, uid, gid); err != nil {
				return err
			}
		}
	}
	if uid >= 0 {
		for _, d := range []string{dir, filepath.Join(dir, "cur"), filepath.Join(dir, "new"), filepath.Join(dir, "tmp")} {
			if err := os.Chown(d, uid, gid); err != nil {
				return err
			}
		}
	}
	return nil
}
