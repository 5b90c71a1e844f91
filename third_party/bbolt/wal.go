package bbolt

// Write-ahead log (a local patch, see PATCHES.md).
//
// Without it a commit writes its dirty pages, fdatasyncs, writes the meta
// page and fdatasyncs again: the first sync keeps a meta page from
// reaching the disk before the pages it points to. With Options.WAL a
// commit instead writes its dirty pages and its meta page as one record
// to <path>-wal and fdatasyncs that file once; only then does it write the
// same pages to the data file, without a sync. The log is written in
// place over preallocated zeros, so its sync flushes data blocks only. On
// Linux the record is written with O_DIRECT|O_DSYNC, so one pwrite both
// writes and syncs it (records then are padded to 4 KiB).
//
// A crash may leave the data file with any part of the unsynced writes.
// Open therefore writes every record of the log again, in order, before
// it reads a meta page, and syncs the data file. Replaying is idempotent,
// and a record of a commit whose log sync did not finish fails its
// checksum, so that commit (never acknowledged) is not applied: its data
// file writes had not started.
//
// The log restarts at its beginning ("checkpoint") once the next record
// does not fit: the data file is synced first, so every record before is
// redundant. Background syncs of the data file while the log fills keep
// that checkpoint short. Records carry their transaction ID, and a replay
// follows only consecutive IDs from offset 0, so records of an earlier
// round behind the current ones are never applied.

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"unsafe"

	berrors "go.etcd.io/bbolt/errors"
	"go.etcd.io/bbolt/internal/common"
)

// DefaultWALSize is the size the log is preallocated to.
const DefaultWALSize = 32 << 20

// ErrWALNotApplied is returned by a read-only Open when the log holds
// commits that the data file does not show yet (after a power loss): a
// read-write Open applies them.
var ErrWALNotApplied = errors.New("write-ahead log holds commits not yet in the data file; open read-write once to apply them")

const (
	walMagic       = "bboltwal"
	walHeaderSize  = 40 // magic, txid, record length, page size, entries, round salt
	walEntrySize   = 16 // page id, byte count, padding
	walTrailerSize = 8  // CRC-32C of everything before, padding
	// walAlign is the unit of direct writes: records written with
	// wal.direct start and end on it (zeros before the trailer).
	walAlign = 4096
)

var walCRC = crc32.MakeTable(crc32.Castagnoli)

type wal struct {
	f *os.File
	// direct is the same file opened for direct, synchronous writes
	// (wal_linux.go), nil where the system refuses that: a record then
	// goes through the page cache and an fdatasync. Records written
	// through it are padded to walAlign.
	direct *os.File
	size   int64  // preallocated size; a record that does not fit after off starts a new round at 0
	off    int64  // where the next record goes
	buf    []byte // the record being written, kept between commits

	recovered int // records applied by Open

	bgWG   sync.WaitGroup
	bgMu   sync.Mutex
	bgBusy bool
	bgErr  error // a failed write or sync (log or data file): every later commit fails (poison)
	bgFrom int64 // off when the last background sync started (committer only)
	last   int64 // offset of the newest record

	onDataSync func() // tests: the data file was synced

	// id is stamped into the unused tail of every meta page written with
	// the log, so the meta pages of two files never look alike to
	// belongsTo (bbolt's meta checksum covers only the meta fields).
	id [16]byte
	// salt is new in every round and in every record of it: scan follows
	// only records with the first record's salt, so bytes of an earlier
	// round (or a value planted in a page) never continue a chain.
	salt uint64
}

// walIDMarker precedes the log's id at the end of a meta page.
const walIDMarker = "bbolt-wal-id"

// walStampAt is where the id goes: right after the meta fields, in the
// same 512-byte sector as them and their checksum, so a torn meta page
// is either the old or the new page, never a checksummed meta with
// another page's id.
var walStampAt = int(common.PageHeaderSize) + int(unsafe.Sizeof(common.Meta{}))

// stamp writes w.id behind the meta fields of the meta page in buf.
func (w *wal) stamp(buf []byte) {
	copy(buf[walStampAt:], walIDMarker)
	copy(buf[walStampAt+len(walIDMarker):], w.id[:])
}

// metaPage is a valid meta page of the data file as the disk holds it.
type metaPage struct {
	page []byte
	txid common.Txid
}

// metaPages reads the data file's two meta pages (of pageSize bytes) and
// returns the valid ones, newest first.
func metaPages(db *DB, pageSize int) []metaPage {
	var valid []metaPage
	for id := range 2 {
		buf := make([]byte, pageSize)
		if _, err := db.file.ReadAt(buf, int64(id*pageSize)); err != nil {
			continue
		}
		if m := (*common.Page)(unsafe.Pointer(&buf[0])).Meta(); m.Validate() == nil {
			valid = append(valid, metaPage{buf, m.Txid()})
		}
	}
	if len(valid) == 2 && valid[1].txid > valid[0].txid {
		valid[0], valid[1] = valid[1], valid[0]
	}
	return valid
}

// fileID returns the id stamped into the file's newest valid meta page
// that has one, or a new random one.
func fileID(db *DB) ([16]byte, error) {
	var id [16]byte
	ps := common.DefaultPageSize
	head := make([]byte, 1024)
	if _, err := db.file.ReadAt(head, 0); err == nil {
		if m := (*common.Page)(unsafe.Pointer(&head[0])).Meta(); m.Validate() == nil {
			ps = int(m.PageSize())
		}
	}
	for _, mp := range metaPages(db, ps) {
		if tail := mp.page[walStampAt:]; string(tail[:len(walIDMarker)]) == walIDMarker {
			copy(id[:], tail[len(walIDMarker):])
			return id, nil
		}
	}
	_, err := rand.Read(id[:])
	return id, err
}

// walRecord is a record found by scan.
type walRecord struct {
	off, length int64
	txid        common.Txid
	salt        uint64
	pageSize    int
}

// openWAL opens (or creates and preallocates) the log of db's file and
// applies what it holds. A read-only open only checks that the data file
// already shows every record.
func openWAL(db *DB, size int64) (*wal, error) {
	if size <= 0 {
		size = DefaultWALSize
	}
	path := db.path + "-wal"
	flag := os.O_RDWR | os.O_CREATE
	if db.readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if db.readOnly && errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open write-ahead log: %w", err)
	}
	w := &wal{f: f, size: size}
	if w.id, err = fileID(db); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := w.open(db); err != nil {
		_ = w.f.Close()
		return nil, err
	}
	if !db.readOnly {
		w.direct = openDirect(w.f.Name())
	}
	return w, nil
}

func (w *wal) open(db *DB) error {
	fi, err := w.f.Stat()
	if err != nil {
		return err
	}
	recs, err := w.scan(fi.Size())
	if err != nil {
		return err
	}
	if db.readOnly {
		return w.checkApplied(db, recs)
	}
	if fi.Size() < w.size {
		if err := w.zero(fi.Size(), w.size); err != nil {
			return err
		}
		if err := syncDir(filepath.Dir(db.path)); err != nil {
			return err
		}
	}
	if len(recs) == 0 {
		// The first round copies the meta pages from the page cache:
		// make sure that is what the disk holds.
		return fdatasync(db)
	}
	if !w.belongsTo(db, recs) {
		// Kept for inspection, never applied: a fresh log replaces it.
		aside := fmt.Sprintf("%s.rejected-%d", w.f.Name(), recs[len(recs)-1].txid)
		db.Logger().Warningf("write-ahead log %s does not continue the data file; moved to %s", w.f.Name(), aside)
		if err := os.Rename(w.f.Name(), aside); err != nil {
			return err
		}
		_ = w.f.Close()
		if w.f, err = os.OpenFile(db.path+"-wal", os.O_RDWR|os.O_CREATE, 0o600); err != nil {
			return err
		}
		if err := w.zero(0, w.size); err != nil {
			return err
		}
		return syncDir(filepath.Dir(db.path))
	}
	for _, r := range recs {
		if err := w.apply(db, r); err != nil {
			return err
		}
	}
	if err := db.file.Sync(); err != nil {
		return err
	}
	w.recovered = len(recs)
	// Zero the whole log, not only its header: records of a crash between
	// an erasure and its WipeWAL hold copies of erased pages.
	if err := w.zero(0, w.size); err != nil {
		return err
	}
	w.off, w.bgFrom = 0, 0
	return nil
}

// zero writes zeros over [from, to) and syncs: up to w.size it
// preallocates, so that later syncs of the log overwrite blocks instead
// of allocating them.
func (w *wal) zero(from, to int64) error {
	zeros := make([]byte, 1<<20)
	for off := from; off < to; {
		n := min(int64(len(zeros)), to-off)
		if _, err := w.f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return w.f.Sync()
}

// scan returns the chain of valid records from offset 0: each one
// complete, with a matching checksum and the transaction ID after the
// previous one.
func (w *wal) scan(fileSize int64) ([]walRecord, error) {
	var recs []walRecord
	var off int64
	var buf []byte
	for {
		hdr := make([]byte, walHeaderSize)
		if off+walHeaderSize > fileSize {
			return recs, nil
		}
		if _, err := w.f.ReadAt(hdr, off); err != nil {
			return nil, err
		}
		if string(hdr[:8]) != walMagic {
			return recs, nil
		}
		txid := common.Txid(binary.LittleEndian.Uint64(hdr[8:]))
		length := int64(binary.LittleEndian.Uint64(hdr[16:]))
		salt := binary.LittleEndian.Uint64(hdr[32:])
		if len(recs) > 0 && (txid != recs[len(recs)-1].txid+1 || salt != recs[0].salt) {
			return recs, nil
		}
		if length < walHeaderSize+walTrailerSize || length > fileSize-off {
			return recs, nil
		}
		if int64(cap(buf)) < length {
			buf = make([]byte, length)
		}
		buf = buf[:length]
		if _, err := w.f.ReadAt(buf, off); err != nil {
			return nil, err
		}
		if _, ok := parseWALRecord(buf); !ok {
			return recs, nil
		}
		recs = append(recs, walRecord{off: off, length: length, txid: txid, salt: salt, pageSize: int(binary.LittleEndian.Uint32(hdr[24:]))})
		off += length
	}
}

// walEntry is one run of pages in a record.
type walEntry struct {
	pgid common.Pgid
	data []byte
}

// parseWALRecord checks a whole record (checksum, sizes) and returns its
// entries, which point into rec.
func parseWALRecord(rec []byte) ([]walEntry, bool) {
	n := len(rec)
	if n < walHeaderSize+walTrailerSize || string(rec[:8]) != walMagic || binary.LittleEndian.Uint64(rec[16:]) != uint64(n) {
		return nil, false
	}
	if crc32.Checksum(rec[:n-walTrailerSize], walCRC) != binary.LittleEndian.Uint32(rec[n-walTrailerSize:]) {
		return nil, false
	}
	pageSize := int(binary.LittleEndian.Uint32(rec[24:]))
	count := int(binary.LittleEndian.Uint32(rec[28:]))
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return nil, false
	}
	entries := make([]walEntry, 0, count)
	pos := walHeaderSize
	for range count {
		if pos+walEntrySize > n-walTrailerSize {
			return nil, false
		}
		pgid := common.Pgid(binary.LittleEndian.Uint64(rec[pos:]))
		size := int(binary.LittleEndian.Uint32(rec[pos+8:]))
		pos += walEntrySize
		if size == 0 || size%pageSize != 0 || size > n-walTrailerSize-pos {
			return nil, false
		}
		entries = append(entries, walEntry{pgid: pgid, data: rec[pos : pos+size]})
		pos += size
	}
	// A record written directly is padded with zeros before its trailer.
	if pad := rec[pos : n-walTrailerSize]; len(pad) >= walAlign || !allZero(pad) {
		return nil, false
	}
	return entries, true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readRecord reads and parses record r.
func (w *wal) readRecord(r walRecord) ([]walEntry, error) {
	rec := make([]byte, r.length)
	if _, err := w.f.ReadAt(rec, r.off); err != nil {
		return nil, err
	}
	entries, ok := parseWALRecord(rec)
	if !ok {
		return nil, fmt.Errorf("write-ahead log record at %d changed while open", r.off)
	}
	return entries, nil
}

func (w *wal) apply(db *DB, r walRecord) error {
	entries, err := w.readRecord(r)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := db.file.WriteAt(e.data, int64(e.pgid)*int64(r.pageSize)); err != nil {
			return err
		}
	}
	return nil
}

// belongsTo tells whether recs continue db's file: the file's newest
// valid meta page must be, byte for byte, one the log holds (a round's
// first record holds both meta pages the file had at its start). A log
// left beside a file that was replaced (a restored copy, a new file) or
// written on without the log fails this and is ignored.
func (w *wal) belongsTo(db *DB, recs []walRecord) bool {
	pageSize := recs[0].pageSize
	metas := metaPages(db, pageSize)
	if len(metas) == 0 {
		// Both meta pages torn: the records bring them back. An empty
		// file (a new database beside an old log) has none to tear.
		fi, err := db.file.Stat()
		return err == nil && fi.Size() >= int64(2*pageSize)
	}
	newest := metas[0]
	id := common.Pgid(newest.txid % 2)
	for _, r := range recs {
		entries, err := w.readRecord(r)
		if err != nil {
			return false
		}
		for _, e := range entries {
			if e.pgid == id && len(e.data) == pageSize && string(e.data) == string(newest.page) {
				return true
			}
		}
	}
	return false
}

// checkApplied (read-only open) succeeds when the data file already holds
// the newest image of every page in recs, as after a crash of the process
// alone (the page cache kept its writes).
func (w *wal) checkApplied(db *DB, recs []walRecord) error {
	if len(recs) == 0 {
		return nil
	}
	type image struct {
		rec, entry int
	}
	newest := map[common.Pgid]image{}
	all := make([][]walEntry, len(recs))
	for i, r := range recs {
		entries, err := w.readRecord(r)
		if err != nil {
			return err
		}
		all[i] = entries
		for j, e := range entries {
			newest[e.pgid] = image{i, j}
		}
	}
	for pgid, im := range newest {
		want := all[im.rec][im.entry].data
		got := make([]byte, len(want))
		if _, err := db.file.ReadAt(got, int64(pgid)*int64(recs[im.rec].pageSize)); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if string(got) != string(want) {
			return ErrWALNotApplied
		}
	}
	return nil
}

// invalidate makes the log empty for the next Open and starts a new round.
func (w *wal) invalidate() error {
	if _, err := w.f.WriteAt(make([]byte, walHeaderSize), 0); err != nil {
		return err
	}
	if err := fdatasyncFile(w.f); err != nil {
		return err
	}
	w.off, w.bgFrom = 0, 0
	return nil
}

// log writes tx's dirty pages and meta page as one record and syncs it.
// It runs in Commit before the data file is written.
func (w *wal) log(tx *Tx) error {
	db := tx.db
	ps := db.pageSize
	if err := w.failed(); err != nil {
		return err
	}
	pages := make(common.Pages, 0, len(tx.pages))
	for _, p := range tx.pages {
		pages = append(pages, p)
	}
	sort.Sort(pages)

	n := walHeaderSize + walEntrySize + ps + walTrailerSize
	for _, p := range pages {
		n += walEntrySize + (int(p.Overflow())+1)*ps
	}
	roundMetas := 2 * (walEntrySize + ps)
	// walAlign: room for the padding of a direct write (below).
	if w.off > 0 && w.off+int64(n+roundMetas+walAlign) > w.size {
		if err := w.checkpoint(db); err != nil {
			return err
		}
	}
	// The first record of a round also holds both meta pages as the data
	// file has them (synced by the checkpoint), so every meta page the
	// file can show after a crash is in the log: Open compares them to
	// tell this file's log from another's (belongsTo).
	entries := len(pages) + 1
	if w.off == 0 {
		n += roundMetas
		entries += 2
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return err
		}
		w.salt = binary.LittleEndian.Uint64(r[:])
	}
	pad := 0
	if w.direct != nil {
		pad = (walAlign - n%walAlign) % walAlign
		n += pad
	}
	if cap(w.buf) < n {
		w.buf = alignedBuffer(n)
	}
	b := w.buf[:walHeaderSize]
	copy(b, walMagic)
	binary.LittleEndian.PutUint64(b[8:], uint64(tx.meta.Txid()))
	binary.LittleEndian.PutUint64(b[16:], uint64(n))
	binary.LittleEndian.PutUint32(b[24:], uint32(ps))
	binary.LittleEndian.PutUint32(b[28:], uint32(entries))
	binary.LittleEndian.PutUint64(b[32:], w.salt)
	entry := func(id common.Pgid, data []byte) {
		var h [walEntrySize]byte
		binary.LittleEndian.PutUint64(h[:], uint64(id))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
		b = append(b, h[:]...)
		b = append(b, data...)
	}
	if w.off == 0 {
		for id := range common.Pgid(2) {
			entry(id, unsafe.Slice((*byte)(unsafe.Pointer(db.page(id))), ps))
		}
	}
	for _, p := range pages {
		entry(p.Id(), unsafe.Slice((*byte)(unsafe.Pointer(p)), (int(p.Overflow())+1)*ps))
	}
	// The meta page as writeMeta writes it after the data pages.
	meta := make([]byte, ps)
	mp := db.pageInBuffer(meta, 0)
	tx.meta.Write(mp)
	w.stamp(meta)
	entry(mp.Id(), meta)
	b = b[:len(b)+pad]
	clear(b[len(b)-pad:])
	var t [walTrailerSize]byte
	binary.LittleEndian.PutUint32(t[:], crc32.Checksum(b, walCRC))
	b = append(b, t[:]...)

	if w.direct != nil {
		// Written and synced in one call, past the page cache. A failure
		// concerns this record only: every earlier one was on disk when
		// its own write returned, so revoking this one is enough.
		_, err := w.direct.WriteAt(b, w.off)
		if directRefused(err) {
			// The open passed but the file system takes no direct writes
			// of this alignment: buffered from now on (a padded record
			// is as valid there).
			_ = w.direct.Close()
			w.direct = nil
		} else if err != nil {
			return w.revoke(w.off, err)
		}
	}
	if w.direct == nil {
		if _, err := w.f.WriteAt(b, w.off); err != nil {
			return w.revoke(w.off, err)
		}
		if err := fdatasyncFile(w.f); err != nil {
			// The failed sync may have covered the tail of the previous,
			// acknowledged record: no later commit may trust the log.
			w.poison(err)
			return w.revoke(w.off, err)
		}
	}
	w.last = w.off
	w.off += int64(n)
	if cap(w.buf) > 4<<20 {
		w.buf = nil // one large commit does not keep its buffer
	}
	w.backgroundSync(db)
	return nil
}

// revoke takes back the record at off after its commit failed (its log
// write or sync, or the data file writes after it): the commit was
// rolled back, so a replay must not apply it. The record's header is
// zeroed and synced; if even that fails the log refuses every later
// commit, since it cannot tell what the disk holds.
func (w *wal) revoke(off int64, cause error) error {
	_, err := w.f.WriteAt(make([]byte, walHeaderSize), off)
	if err == nil {
		err = fdatasyncFile(w.f)
	}
	if err != nil {
		w.poison(err)
	}
	w.off = off
	return cause
}

// failed is the error that poisoned the log, if any.
func (w *wal) failed() error {
	w.bgMu.Lock()
	defer w.bgMu.Unlock()
	if w.bgErr != nil {
		return fmt.Errorf("write-ahead log: an earlier write or sync failed: %w", w.bgErr)
	}
	return nil
}

// poison makes every later commit fail: after a failed sync (of the log
// or of the data file) the log cannot tell what the disk holds, since
// Linux may drop the pages and report the next sync as a success. A
// failed direct write does not poison: it concerns its own record only.
func (w *wal) poison(err error) {
	w.bgMu.Lock()
	if w.bgErr == nil {
		w.bgErr = err
	}
	w.bgMu.Unlock()
}

// revokeLast takes back the newest record (tx.go: the data file write
// after it failed).
func (w *wal) revokeLast(cause error) error { return w.revoke(w.last, cause) }

// checkpoint syncs the data file, after which every record is redundant,
// and starts the next round of the log at offset 0.
func (w *wal) checkpoint(db *DB) error {
	w.bgWG.Wait()
	if err := w.failed(); err != nil {
		return err
	}
	if err := fdatasync(db); err != nil {
		w.poison(err)
		return err
	}
	if w.onDataSync != nil {
		w.onDataSync()
	}
	w.off, w.bgFrom = 0, 0
	return nil
}

// backgroundSync starts a sync of the data file each time an eighth of the
// log has been written since the last one, so the checkpoint at the end
// of the round finds little left to flush. Its error poisons the next
// checkpoint: after a failed fsync the kernel may have dropped the pages,
// and a later fsync of the same file can report success.
func (w *wal) backgroundSync(db *DB) {
	if w.off-w.bgFrom < w.size/8 {
		return
	}
	w.bgMu.Lock()
	busy := w.bgBusy
	w.bgBusy = true
	w.bgMu.Unlock()
	if busy {
		return
	}
	w.bgFrom = w.off
	w.bgWG.Add(1)
	go func() {
		defer w.bgWG.Done()
		err := fdatasync(db)
		if err == nil && w.onDataSync != nil {
			w.onDataSync()
		}
		if err != nil {
			w.poison(err)
		}
		w.bgMu.Lock()
		w.bgBusy = false
		w.bgMu.Unlock()
	}()
}

// wipe overwrites the whole log with zeros after a checkpoint: pages an
// erasure removed from the data file must not survive in old records.
func (w *wal) wipe(db *DB) error {
	if err := w.checkpoint(db); err != nil {
		return err
	}
	fi, err := w.f.Stat()
	if err != nil {
		return err
	}
	// Zero every block the log has, also those past its size after a
	// large record, before shrinking it.
	if err := w.zero(0, max(fi.Size(), w.size)); err != nil {
		return err
	}
	if fi.Size() > w.size {
		if err := w.f.Truncate(w.size); err != nil {
			return err
		}
	}
	return w.f.Sync()
}

// close checkpoints and empties the log (a clean close leaves nothing to
// replay) and shrinks it back after a record larger than its size.
func (w *wal) close(db *DB) error {
	w.bgWG.Wait()
	var err error
	if !db.readOnly {
		err = w.checkpoint(db)
		if err == nil {
			err = w.invalidate()
		}
		if fi, serr := w.f.Stat(); err == nil && serr == nil && fi.Size() > w.size {
			err = w.f.Truncate(w.size)
		}
	}
	if w.direct != nil {
		if cerr := w.direct.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// alignedBuffer is an empty slice of capacity n whose first byte sits at a
// multiple of walAlign in memory, as direct writes need.
func alignedBuffer(n int) []byte {
	raw := make([]byte, n+walAlign)
	skip := (walAlign - int(uintptr(unsafe.Pointer(&raw[0]))%walAlign)) % walAlign
	return raw[skip : skip : skip+n]
}

// syncDir makes a new file's name durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WALRecovered is the number of commits Open applied from the
// write-ahead log (0 after a clean close).
func (db *DB) WALRecovered() int {
	if db.wal == nil {
		return 0
	}
	return db.wal.recovered
}

// WipeWAL overwrites the write-ahead log with zeros after syncing the
// data file. Call it after erasing data that must be unreadable on disk.
func (db *DB) WipeWAL() error {
	db.rwlock.Lock()
	defer db.rwlock.Unlock()
	if !db.opened {
		return berrors.ErrDatabaseNotOpen
	}
	if db.wal == nil || db.readOnly {
		return nil
	}
	return db.wal.wipe(db)
}
