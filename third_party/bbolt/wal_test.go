package bbolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The tests of the write-ahead log simulate a power loss by copying the
// data file and the log while the process still has them open: with the
// data file's writes dropped (ops.writeAt), the copy holds what a disk
// that never received the unsynced writes would hold.

var walBucket = []byte("b")

func openWALDB(t *testing.T, path string, size int64) *DB {
	t.Helper()
	db, err := Open(path, 0o600, &Options{WAL: true, WALSize: size})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func put(t *testing.T, db *DB, key string, value []byte) error {
	t.Helper()
	return db.Update(func(tx *Tx) error {
		b, err := tx.CreateBucketIfNotExists(walBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), value)
	})
}

func mustPut(t *testing.T, db *DB, key string, value []byte) {
	t.Helper()
	if err := put(t, db, key, value); err != nil {
		t.Fatal(err)
	}
}

// disk models what a power loss leaves: the data file as it was at its
// last sync (or when watching began), with none of the later unsynced
// writes, and the log as written (its records are synced before their
// commit returns).
type disk struct {
	mu   sync.Mutex
	path string
	data []byte
}

func watchDisk(t *testing.T, db *DB) *disk {
	t.Helper()
	d := &disk{path: db.path}
	snap := func() {
		raw, err := os.ReadFile(d.path)
		if err != nil {
			panic(err)
		}
		d.mu.Lock()
		d.data = raw
		d.mu.Unlock()
	}
	snap()
	db.wal.bgWG.Wait()
	db.wal.onDataSync = snap
	return d
}

// powerLoss writes what the disk holds now into a new folder and returns
// the copy's data file path.
func (d *disk) powerLoss(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(d.path))
	d.mu.Lock()
	data := d.data
	d.mu.Unlock()
	log, err := os.ReadFile(d.path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst+"-wal", log, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// processCrash copies both files as they are (the page cache keeps the
// writes of a process that was killed).
func processCrash(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// abandon releases a database that "crashed" without closing it (no
// checkpoint), so the test's folder can be removed.
func abandon(db *DB) {
	db.wal.bgWG.Wait()
	_ = db.munmap()
	_ = db.wal.f.Close()
	if db.wal.direct != nil {
		_ = db.wal.direct.Close()
	}
	_ = db.file.Close()
}

func get(t *testing.T, db *DB, key string) []byte {
	t.Helper()
	var v []byte
	if err := db.View(func(tx *Tx) error {
		if b := tx.Bucket(walBucket); b != nil {
			v = bytes.Clone(b.Get([]byte(key)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

func checkConsistent(t *testing.T, db *DB) {
	t.Helper()
	if err := db.View(func(tx *Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("consistency check: %v", err)
	}
}

func value(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 3000+i) }

func TestWALReplaysCommitsWhoseDataWritesWereLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	for i := range 3 {
		mustPut(t, db, fmt.Sprint(i), value(i))
	}
	d := watchDisk(t, db)
	for i := 3; i < 8; i++ {
		mustPut(t, db, fmt.Sprint(i), value(i))
	}
	mustPut(t, db, "0", value(100)) // overwrite: the newest image must win
	cp := d.powerLoss(t)
	abandon(db)

	db2 := openWALDB(t, cp, 0)
	defer db2.Close()
	if got := db2.WALRecovered(); got != 9 { // 8 puts, 1 overwrite
		t.Errorf("recovered %d commits, want 9", got)
	}
	for i := 1; i < 8; i++ {
		if !bytes.Equal(get(t, db2, fmt.Sprint(i)), value(i)) {
			t.Errorf("key %d lost or wrong after replay", i)
		}
	}
	if !bytes.Equal(get(t, db2, "0"), value(100)) {
		t.Error("overwritten key 0 has an old image after replay")
	}
	checkConsistent(t, db2)
	// The log was emptied by the replay: a second open applies nothing.
	db2.Close()
	db3 := openWALDB(t, cp, 0)
	defer db3.Close()
	if got := db3.WALRecovered(); got != 0 {
		t.Errorf("second open recovered %d commits, want 0", got)
	}
}

func TestWALTornLastRecordIsNotApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	mustPut(t, db, "a", value(1))
	d := watchDisk(t, db)
	mustPut(t, db, "b", value(2))
	last := db.wal.last
	mustPut(t, db, "c", value(3))
	tornAt := db.wal.last
	cp := d.powerLoss(t)
	abandon(db)
	if last >= tornAt {
		t.Fatalf("records at %d and %d", last, tornAt)
	}
	// Flip one byte inside the last record: its sync never finished.
	f, err := os.OpenFile(cp+"-wal", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, tornAt+walHeaderSize+100); err != nil {
		t.Fatal(err)
	}
	f.Close()

	db2 := openWALDB(t, cp, 0)
	defer db2.Close()
	if !bytes.Equal(get(t, db2, "b"), value(2)) {
		t.Error("commit before the torn record lost")
	}
	if get(t, db2, "c") != nil {
		t.Error("the torn record's commit was applied")
	}
	checkConsistent(t, db2)
}

func TestWALRoundsAndStaleRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	// A log of 64 KiB holds a few records: many rounds, each overwriting
	// the start of the last one, with old records behind the new ones.
	db := openWALDB(t, path, 64<<10)
	d := watchDisk(t, db)
	for i := range 200 {
		mustPut(t, db, "k", value(i%50))
		mustPut(t, db, fmt.Sprint("n", i), value(i%7))
	}
	mustPut(t, db, "k", value(77))
	mustPut(t, db, "last", value(5))
	cp := d.powerLoss(t)
	abandon(db)

	db2 := openWALDB(t, cp, 64<<10)
	defer db2.Close()
	if !bytes.Equal(get(t, db2, "k"), value(77)) {
		t.Error("k is not the newest value")
	}
	if !bytes.Equal(get(t, db2, "last"), value(5)) {
		t.Error("the last commit is lost")
	}
	for i := range 200 {
		if !bytes.Equal(get(t, db2, fmt.Sprint("n", i)), value(i%7)) {
			t.Fatalf("n%d lost", i)
		}
	}
	checkConsistent(t, db2)
}

func TestWALCleanCloseLeavesNothingToReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	mustPut(t, db, "a", value(1))
	// A commit larger than the log grows it; Close shrinks it back.
	big := bytes.Repeat([]byte("x"), 2*DefaultWALSize)
	mustPut(t, db, "big", big)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != DefaultWALSize {
		t.Errorf("log is %d bytes after close, want %d", fi.Size(), DefaultWALSize)
	}
	db2 := openWALDB(t, path, 0)
	defer db2.Close()
	if db2.WALRecovered() != 0 {
		t.Errorf("recovered %d after a clean close", db2.WALRecovered())
	}
	if !bytes.Equal(get(t, db2, "big"), big) || !bytes.Equal(get(t, db2, "a"), value(1)) {
		t.Error("data lost over a clean close")
	}
}

func TestWALOfAnotherFileIsIgnored(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	db := openWALDB(t, a, 0)
	d := watchDisk(t, db)
	for i := range 5 {
		mustPut(t, db, fmt.Sprint(i), value(i))
	}
	mustPut(t, db, "late", value(9))
	cp := d.powerLoss(t)
	abandon(db)

	// A newer database (one commit, or many) beside that log: neither is
	// continued by it, so it must not be applied. (A file that never had a
	// commit is byte for byte the start of every database; the log of one
	// applies to it as to its own, leaving a consistent copy.)
	for _, commits := range []int{1, 40} {
		b := filepath.Join(t.TempDir(), "b")
		dbB := openWALDB(t, b, 0)
		for i := range commits {
			mustPut(t, dbB, fmt.Sprint("b", i), value(i))
		}
		if err := dbB.Close(); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(cp + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(b+"-wal", raw, 0o600); err != nil {
			t.Fatal(err)
		}
		dbB = openWALDB(t, b, 0)
		if dbB.WALRecovered() != 0 || get(t, dbB, "late") != nil {
			t.Errorf("%d commits: a foreign log was applied", commits)
		}
		if aside, _ := filepath.Glob(b + "-wal.rejected-*"); len(aside) != 1 {
			t.Errorf("%d commits: the foreign log was not set aside: %v", commits, aside)
		}
		if !bytes.Equal(get(t, dbB, fmt.Sprint("b", commits-1)), value(commits-1)) {
			t.Error("own data lost")
		}
		checkConsistent(t, dbB)
		dbB.Close()
	}
}

func TestWALReadOnlyOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	d := watchDisk(t, db)
	mustPut(t, db, "a", value(1))
	mustPut(t, db, "b", value(2))
	// The process dies, the page cache keeps its writes: read-only opens.
	cp := processCrash(t, path)
	// A power loss dropped the data file's writes: read-only refuses.
	cpLost := d.powerLoss(t)
	abandon(db)

	ro, err := Open(cp, 0o600, &Options{WAL: true, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open after a process crash: %v", err)
	}
	if !bytes.Equal(get(t, ro, "b"), value(2)) {
		t.Error("read-only open sees no data")
	}
	ro.Close()
	if _, err := Open(cpLost, 0o600, &Options{WAL: true, ReadOnly: true}); !errors.Is(err, ErrWALNotApplied) {
		t.Fatalf("read-only open after a power loss: %v, want ErrWALNotApplied", err)
	}
	rw := openWALDB(t, cpLost, 0)
	if !bytes.Equal(get(t, rw, "b"), value(2)) {
		t.Error("read-write open did not apply the log")
	}
	rw.Close()
}

func TestWALFailedDataWriteIsRevoked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	mustPut(t, db, "a", value(1))
	d := watchDisk(t, db)
	fail := errors.New("disk full")
	db.ops.writeAt = func(b []byte, off int64) (int, error) { return 0, fail }
	if err := put(t, db, "lost", value(2)); !errors.Is(err, fail) {
		t.Fatalf("commit with a failing data write: %v", err)
	}
	db.ops.writeAt = db.file.WriteAt
	mustPut(t, db, "after", value(3))
	mustPut(t, db, "later", value(4))
	cp := d.powerLoss(t)
	abandon(db)

	db2 := openWALDB(t, cp, 0)
	defer db2.Close()
	if get(t, db2, "lost") != nil {
		t.Error("a commit that failed was applied by the replay")
	}
	for k, v := range map[string][]byte{"a": value(1), "after": value(3), "later": value(4)} {
		if !bytes.Equal(get(t, db2, k), v) {
			t.Errorf("%s lost", k)
		}
	}
	checkConsistent(t, db2)
}

func TestWipeWALLeavesNoOldRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	defer db.Close()
	secret := []byte("geheimnis-der-klasse-5a")
	mustPut(t, db, "s", bytes.Repeat(secret, 10))
	if err := db.Update(func(tx *Tx) error { return tx.Bucket(walBucket).Delete([]byte("s")) }); err != nil {
		t.Fatal(err)
	}
	if n := countIn(t, path+"-wal", secret); n == 0 {
		t.Fatal("the log never held the value: the test proves nothing")
	}
	if err := db.WipeWAL(); err != nil {
		t.Fatal(err)
	}
	if n := countIn(t, path+"-wal", secret); n != 0 {
		t.Errorf("the log still holds the erased value %d times", n)
	}
	mustPut(t, db, "after", value(1)) // the log is usable after a wipe
}

func countIn(t *testing.T, path string, needle []byte) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(raw, needle)
}

// BenchmarkCommitSmall is one small put per commit, with and without the
// log: the log's one sync against the two of the data file.
func BenchmarkCommitSmall(b *testing.B) {
	for _, withWAL := range []bool{false, true} {
		b.Run(fmt.Sprint("wal=", withWAL), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "db"), 0o600, &Options{WAL: withWAL, NoFreelistSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			v := bytes.Repeat([]byte("v"), 4096)
			b.ResetTimer()
			for i := range b.N {
				if err := db.Update(func(tx *Tx) error {
					bk, err := tx.CreateBucketIfNotExists(walBucket)
					if err != nil {
						return err
					}
					return bk.Put([]byte(fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)), v)
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A meta page torn at a sector: its first 512 bytes (the meta fields and
// their checksum) are new, the rest is old. The log must still be taken
// as this file's, or the commits it holds are lost.
func TestWALTornMetaPageKeepsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	d := watchDisk(t, db) // right after init: both meta pages unstamped
	mustPut(t, db, "0", value(0))
	cache, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := db.pageSize
	slot := int(db.meta().Txid() % 2)
	cp := d.powerLoss(t)
	abandon(db)
	raw, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	copy(raw[slot*ps:slot*ps+512], cache[slot*ps:slot*ps+512])
	if err := os.WriteFile(cp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	db2 := openWALDB(t, cp, 0)
	defer db2.Close()
	if get(t, db2, "0") == nil {
		t.Error("an acknowledged commit was lost")
	}
	checkConsistent(t, db2)
}

// The disk holds the data file as of its last sync plus any subset of the
// later unsynced writes (deletes make bbolt reuse freed pages among them):
// every subset must replay to the last acknowledged state.
func TestWALAnySubsetOfUnsyncedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 0)
	for i := range 20 {
		mustPut(t, db, fmt.Sprint(i), value(i))
	}
	d := watchDisk(t, db)
	type write struct {
		off int64
		b   []byte
	}
	var mu sync.Mutex
	var writes []write
	db.ops.writeAt = func(b []byte, off int64) (int, error) {
		mu.Lock()
		writes = append(writes, write{off, bytes.Clone(b)})
		mu.Unlock()
		return db.file.WriteAt(b, off)
	}
	for i := range 60 {
		if i%3 == 0 {
			if err := db.Update(func(tx *Tx) error { return tx.Bucket(walBucket).Delete([]byte(fmt.Sprint(i / 2))) }); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mustPut(t, db, fmt.Sprint(i), value(i))
	}
	want := map[string][]byte{}
	if err := db.View(func(tx *Tx) error {
		return tx.Bucket(walBucket).ForEach(func(k, v []byte) error { want[string(k)] = bytes.Clone(v); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	base := d.powerLoss(t)
	abandon(db)
	baseData, _ := os.ReadFile(base)
	baseLog, _ := os.ReadFile(base + "-wal")
	for trial := range 40 {
		r := rand.New(rand.NewSource(int64(trial)))
		data := bytes.Clone(baseData)
		for _, x := range writes {
			if r.Intn(2) == 0 {
				continue
			}
			if end := x.off + int64(len(x.b)); int64(len(data)) < end {
				data = append(data, make([]byte, end-int64(len(data)))...)
			}
			copy(data[x.off:], x.b)
		}
		p := filepath.Join(t.TempDir(), "db")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+"-wal", baseLog, 0o600); err != nil {
			t.Fatal(err)
		}
		db2 := openWALDB(t, p, 0)
		for k, v := range want {
			if !bytes.Equal(get(t, db2, k), v) {
				t.Fatalf("trial %d: key %s wrong", trial, k)
			}
		}
		checkConsistent(t, db2)
		db2.Close()
	}
}

// A power loss right after any sync of the data file (a checkpoint or a
// background sync), with the log as it was then: each opens consistent,
// with every commit acknowledged by then (the one in flight may or may
// not be there).
func TestWALCrashAfterEachDataSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 64<<10)
	type state struct {
		data, log        []byte
		want             map[string]string
		flightK, flightV string
	}
	var mu sync.Mutex
	var states []state
	acked := map[string]string{}
	var flightK, flightV string
	db.wal.bgWG.Wait()
	db.wal.onDataSync = func() {
		data, _ := os.ReadFile(path)
		log, _ := os.ReadFile(path + "-wal")
		mu.Lock()
		defer mu.Unlock()
		want := map[string]string{}
		for k, v := range acked {
			want[k] = v
		}
		states = append(states, state{data, log, want, flightK, flightV})
	}
	for i := range 60 {
		db.wal.bgWG.Wait()
		k, v := fmt.Sprint(i%13), value(i%50)
		mu.Lock()
		flightK, flightV = k, string(v)
		mu.Unlock()
		mustPut(t, db, k, v)
		mu.Lock()
		acked[k] = string(v)
		mu.Unlock()
	}
	db.wal.bgWG.Wait()
	abandon(db)
	if len(states) < 3 {
		t.Fatalf("only %d data syncs: the log never wrapped", len(states))
	}
	for i, st := range states {
		dst := filepath.Join(t.TempDir(), "db")
		os.WriteFile(dst, st.data, 0o600)
		os.WriteFile(dst+"-wal", st.log, 0o600)
		db2 := openWALDB(t, dst, 64<<10)
		for k, v := range st.want {
			got := string(get(t, db2, k))
			if got != v && !(k == st.flightK && got == st.flightV) {
				t.Errorf("state %d: key %s wrong", i, k)
			}
		}
		checkConsistent(t, db2)
		db2.Close()
	}
}

// directWAL opens a log written directly (O_DIRECT|O_DSYNC); on a file
// system without direct I/O the test is skipped, except in CI.
func directWAL(t *testing.T, path string, size int64) *DB {
	t.Helper()
	db := openWALDB(t, path, size)
	if db.wal.direct == nil {
		db.Close()
		if os.Getenv("CI") == "true" {
			t.Fatal("no direct writes to the log on this file system")
		}
		t.Skip("no direct I/O here")
	}
	return db
}

// Records written directly start and end on walAlign, padded with zeros
// before the trailer, and replay as before.
func TestWALDirectRecordsAreAligned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := directWAL(t, path, 256<<10)
	d := watchDisk(t, db)
	for i := range 40 {
		mustPut(t, db, fmt.Sprint("k", i), value(i))
		if db.wal.last%walAlign != 0 || db.wal.off%walAlign != 0 {
			t.Fatalf("record at %d, next at %d: not aligned to %d", db.wal.last, db.wal.off, walAlign)
		}
	}
	cp := d.powerLoss(t)
	abandon(db)
	db2 := openWALDB(t, cp, 256<<10)
	defer db2.Close()
	if db2.WALRecovered() == 0 {
		t.Fatal("nothing replayed")
	}
	for i := range 40 {
		if !bytes.Equal(get(t, db2, fmt.Sprint("k", i)), value(i)) {
			t.Fatalf("k%d lost", i)
		}
	}
	checkConsistent(t, db2)
}

// Only zeros may stand between a record's last entry and its trailer:
// a record whose padding holds anything else is refused, even with a
// matching checksum.
func TestWALPaddingMustBeZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := directWAL(t, path, 0)
	mustPut(t, db, "a", []byte("small"))
	off := db.wal.last
	n := db.wal.off - off
	abandon(db)
	log, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	rec := bytes.Clone(log[off : off+n])
	if _, ok := parseWALRecord(rec); !ok {
		t.Fatal("the record as written does not parse")
	}
	entries, _ := parseWALRecord(rec)
	end := walHeaderSize
	for _, e := range entries {
		end += walEntrySize + len(e.data)
	}
	if end >= len(rec)-walTrailerSize {
		t.Fatal("record has no padding")
	}
	rec[end] = 1
	binary.LittleEndian.PutUint32(rec[len(rec)-walTrailerSize:], crc32.Checksum(rec[:len(rec)-walTrailerSize], walCRC))
	if _, ok := parseWALRecord(rec); ok {
		t.Error("a record with bytes in its padding parses")
	}
}

// Where direct writes are refused, records go through the page cache and
// an fdatasync, unpadded, and a power loss replays them the same.
func TestWALBufferedWhereDirectIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := openWALDB(t, path, 64<<10)
	if db.wal.direct != nil {
		db.wal.direct.Close()
		db.wal.direct = nil
	}
	d := watchDisk(t, db)
	unaligned := false
	for i := range 100 {
		mustPut(t, db, fmt.Sprint("n", i), value(i%7))
		unaligned = unaligned || db.wal.off%walAlign != 0
	}
	if !unaligned {
		t.Error("buffered records were padded")
	}
	cp := d.powerLoss(t)
	abandon(db)
	db2 := openWALDB(t, cp, 64<<10)
	defer db2.Close()
	for i := range 100 {
		if !bytes.Equal(get(t, db2, fmt.Sprint("n", i)), value(i%7)) {
			t.Fatalf("n%d lost", i)
		}
	}
	checkConsistent(t, db2)
}

// A file system that opens the log for direct I/O but refuses the writes
// (EINVAL, here from a buffer off the alignment) gets buffered records
// from then on, and the commit that met the refusal is not lost.
func TestWALFallsBackWhenDirectWritesAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db := directWAL(t, path, 0)
	d := watchDisk(t, db)
	mustPut(t, db, "a", value(1))
	raw := make([]byte, 1<<20+1)
	db.wal.buf = raw[1:1:len(raw)] // capacity enough for the next records, one byte off alignment
	mustPut(t, db, "b", value(2))
	if db.wal.direct != nil {
		t.Fatal("still writing directly after a refused write")
	}
	mustPut(t, db, "c", value(3))
	cp := d.powerLoss(t)
	abandon(db)
	db2 := openWALDB(t, cp, 0)
	defer db2.Close()
	for k, v := range map[string][]byte{"a": value(1), "b": value(2), "c": value(3)} {
		if !bytes.Equal(get(t, db2, k), v) {
			t.Errorf("%s lost", k)
		}
	}
	checkConsistent(t, db2)
}
