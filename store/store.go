// Package store owns every byte Schulhof keeps on disk. Nothing else opens
// the data directory or imports bbolt.
//
// On-disk layout under the data directory:
//
//	schulhof.db          bbolt: all metadata and small values
//	schulhof.db-wal      bbolt's write-ahead log: each commit's pages, synced
//	                     before the data file is written (third_party/bbolt)
//	blobs/ab/cdef…       immutable content blobs named by their SHA-256 (hex);
//	                     the first two hex digits name the sub-folder
//	blobs/tmp/           blobs being written; emptied at every start
//
// Buckets and key formats (values are JSON unless said otherwise):
//
//	meta        "schema" → uint64 big-endian schema version
//	accounts    account name → Account
//	names       account name → NameRecord: every name ever given, never
//	            reused, so an address can never reach the wrong child
//	extids      external ID (school administration software) → account name
//	groups      group name → Group (members and teachers inside)
//	exceptions  account name 0x00 created-at (8 bytes BE nanos) → Exception
//	blocklist   blocked domain (lower case, IDN in "xn--" form) → BlockedDomain
//	            (LINK-BLOCK; cached in memory between changes)
//	loginlog    time (8 bytes BE unix nanos) seq (8 bytes BE) → LoginRecord
//	audit       entry number (8 bytes BE, from 1) → hash-chained entry; meta
//	            "audit.head" holds the last number and hash (audit.go)
//	blobrefs    content key (contentkey.go) → uint64 big-endian reference count
//	mailboxes, mailboxnames, mailmsgs, mailexpunged, mailmeta, mailstate:
//	            mail (mailboxes, messages, tombstones); key formats in mail.go
//	mailsent    account 0x00 time (8 bytes BE unix nanos) seq (8 bytes BE) →
//	            empty: messages sent in the last hour (MAIL-MASS, mailsent.go)
//	mailkeywords  keywords used per mailbox (maillimits.go)
//	mailappends   first UID of each append per mailbox and MODSEQ, so QRESYNC
//	              leaves out UIDs a client never knew (mailcondstore.go)
//	mailsearch  content key → lower-cased header fields SEARCH reads (mailsearch.go)
//	mailunseen  mailbox ID (8) UID (4): the messages without \Seen, for
//	            SEARCH UNSEEN (mailunseen.go)
//	davlocks    account 0x00 token → DavLock (WebDAV locks; davlocks.go)
//	"\x00scrub" only while an erasure overwrites the free pages (zero
//	            records; scrub.go); dropped at open if a crash left it.
//	            Every other bucket has a privacy provider (privacy_*.go)
//	fileroots, fileentries, fileprops, filetrash:
//	            the WebDAV file trees (tree → root and totals; parent-id
//	            name → entry; id and property name hash → dead property;
//	            removed folders still to empty); key formats and binary
//	            records in files.go
//	fileinline  content key → small file content or message kept inline
//	            (inline.go; counted in blobrefs like blob files)
//
// Schema versions: 1 kept file entries under tree 0x00 parent-id name
// with their properties inside and a bytes counter per tree (files,
// filetrees); 2 keys them by parent id alone with totals per folder
// (migrate_files.go); 3 turns the time-keyed audit log into a hash chain
// whose personal parts are salted digests (audit.go); 4 adds mailbox
// counts and the header search index (mailcounts.go); 5 gives inline mail
// sequenced content keys and writes message records of codec version 2
// (contentkey.go, msgcodec.go).
//
//	websessions, websessionsacct: portal sessions, keyed by the SHA-256 of
//	            the cookie ID (never the ID itself); sessions.go
//	chatrooms, chatmsgs, chatrev, chatread, chatdirect: chat rooms, messages
//	            with per-room sequence numbers, read marks; chat.go
//	chatreports id (8 bytes BE) → ChatReport, the reported message and its
//	            context frozen; read only with an audit record (reports.go)
//	            (forum reports too: Room "forum:<forum>", for the forum's
//	            moderators first, then escalated to the admins; forum_reports.go)
//	forums, forumthreads, forumlist, forumposts, forumpostidx, forumread:
//	            forums per group and school-wide, threads, posts (deleted ones
//	            as tombstones with the reason), read marks; forum.go
//	inspections id (8 bytes BE) → Inspection: four-eyes requests to view a
//	            person's login log, mail or chat (inspections.go)
//	hwtasks, hwhandins: homework tasks (id → Task) and hand-ins (task id
//	            pupil → Handin, files by content reference); homework.go
//	calendars, calentries, calrevs, calfeeds: group calendars, their
//	            entries, every revision of each entry, subscription token
//	            hashes; key formats in calendar.go
//
// Blob write ordering: a blob is streamed to blobs/tmp, renamed to its
// final name, fsynced and the folder fsynced **before** the bbolt
// transaction that references it commits (a writer of the same content
// waits for those fsyncs: blobs.go). Small file contents skip the blob file and
// commit inline with their entry (inline.go). Reference counts change in the same
// transaction as the references. A blob whose count drops to zero is
// removed after that transaction commits; blobs without a count (a crash
// between write and commit) are removed by the sweep at every start.
//
// Every committed change that other sessions must see is published on the
// change feed (feed.go) in commit order.
//
// Backups (backup.go, backup_dir.go, restore.go) are written outside the
// data directory: one read transaction's copy of schulhof.db plus the blob
// files it references, with a manifest; a running backup holds blob
// removals until it has copied what its snapshot references.
package store

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the version this code writes. Open migrates older
// databases step by step through migrations.
const SchemaVersion = 5

var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrNewerSchema means the database was written by a newer Schulhof.
	ErrNewerSchema = errors.New("database schema is newer than this program")
)

var (
	bucketMeta       = []byte("meta")
	bucketAccounts   = []byte("accounts")
	bucketNames      = []byte("names")
	bucketExtIDs     = []byte("extids")
	bucketGroups     = []byte("groups")
	bucketExceptions = []byte("exceptions")
	bucketLoginLog   = []byte("loginlog")
	bucketAudit      = []byte("audit")
	bucketBlobRefs   = []byte("blobrefs")
)

// buckets are created on every open; domain files append theirs in init.
var buckets = [][]byte{
	bucketMeta, bucketAccounts, bucketNames, bucketExtIDs, bucketGroups,
	bucketExceptions, bucketLoginLog, bucketAudit, bucketBlobRefs,
}

// migrations[v] upgrades a database from schema v to v+1.
var migrations = map[uint64]func(tx *bolt.Tx) error{}

// registerMigration adds the step from schema v; two steps from one
// version (branches merged without renumbering) stop the program at start
// instead of silently skipping one.
func registerMigration(v uint64, fn func(tx *bolt.Tx) error) {
	if _, dup := migrations[v]; dup {
		panic(fmt.Sprintf("store: two migrations from schema %d", v))
	}
	migrations[v] = fn
}

// Store is the open data directory. It is safe for concurrent use.
type Store struct {
	dir  string
	db   *bolt.DB
	feed *Feed
	// group shares commits between concurrent writers (groupcommit.go).
	group groupCommit
	// mailLimits are the bounds of maillimits.go.
	mailLimits mailLimitsBox
	unseenFrom uint32 // Options.UnseenIndexFrom

	blobMu      sync.Mutex
	blobPending map[string]int           // blobs written but not yet referenced
	blobSyncing map[string]chan struct{} // renamed into place, fsyncs not done; closed when done (blobs.go)
	seq         uint64                   // in-process sequence for log keys (under blobMu)
	hold        backupHoldState          // blob removals held by running backups (backup.go)

	reapWake, reapStop, reapDone chan struct{} // files_reap.go
	reapOnce                     sync.Once

	sends sendCounter // MAIL-MASS reservations (mailsent.go)

	scrubMu     sync.Mutex // one scrub of the free pages at a time (scrub.go)
	skipScrub   bool       // tests: an erasure whose process stops before its scrub
	onScrubWait func()     // tests: the scrub waits for a reader
	observer    Observer   // Options.Observer, or nil (observe.go)
	openInfo    OpenInfo   // freelist.go

	exports sync.Map // account → struct{}: an export is running (export.go)
}

// Options tune Open.
type Options struct {
	// Timeout waits this long for another process holding the database.
	Timeout time.Duration
	// ReadOnly opens without writing (no migration, no sweep).
	ReadOnly bool
	// Observer, if set, is told the commit and blob fsync durations.
	Observer Observer
	// UnseenIndexFrom is the mailbox size from which SEARCH UNSEEN's index
	// is kept (mailunseen.go); 0: DefaultUnseenIndexFrom.
	UnseenIndexFrom uint32
}

// Open opens or creates the store in dir.
func Open(dir string, opt Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "tmp"), 0o700); err != nil {
		return nil, err
	}
	if opt.Timeout == 0 {
		opt.Timeout = time.Second
	}
	path := filepath.Join(dir, "schulhof.db")
	synced, exists, err := freelistSynced(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	start := time.Now()
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opt.Timeout,
		ReadOnly:     opt.ReadOnly,
		FreelistType: bolt.FreelistMapType,
		// The freelist is not written with every commit: fewer pages per
		// small write. Close writes it once (freelist.go).
		NoFreelistSync: true,
		// One fdatasync of the write-ahead log per commit instead of two
		// of the data file (third_party/bbolt/wal.go); a crash is
		// replayed here.
		WAL: true,
	})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: the database is in use by another process", dir)
		}
		if errors.Is(err, bolt.ErrWALNotApplied) {
			return nil, fmt.Errorf("open %s: the last stop lost power before the database caught up with its write-ahead log; start the server once (schulhof serve) to apply it: %w", dir, err)
		}
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	s := &Store{dir: dir, db: db, feed: newFeed(), blobPending: map[string]int{}, blobSyncing: map[string]chan struct{}{}, observer: opt.Observer,
		unseenFrom: cmp.Or(opt.UnseenIndexFrom, DefaultUnseenIndexFrom)}
	// A read-only open loads no freelist (bbolt preloads it for writers).
	// freelistSynced read the file before the log was replayed: a replay
	// means a crash, and bbolt walked the pages.
	replayed := db.WALRecovered()
	s.openInfo = OpenInfo{Took: time.Since(start), FreelistRebuilt: exists && (!synced || replayed > 0) && !opt.ReadOnly, Replayed: replayed}
	if !opt.ReadOnly {
		if err := s.init(); err != nil {
			db.Close()
			return nil, err
		}
		if err := s.sweepBlobs(); err != nil {
			db.Close()
			return nil, fmt.Errorf("blob sweep: %w", err)
		}
		pages, err := s.scrubIfOwed()
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("scrub owed by an erasure cut short: %w", err)
		}
		s.openInfo.Scrubbed = pages
		s.startReaper()
	}
	return s, nil
}

// init creates buckets and runs migrations up to SchemaVersion.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := dropScrubBucket(tx); err != nil { // a scrub cut short
			return err
		}
		meta := tx.Bucket(bucketMeta)
		v := uint64(0)
		if raw := meta.Get([]byte("schema")); raw != nil {
			v = binary.BigEndian.Uint64(raw)
		} else {
			v = SchemaVersion // a new database starts at the current version
		}
		if v > SchemaVersion {
			return fmt.Errorf("%w (%d > %d)", ErrNewerSchema, v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			m, ok := migrations[v]
			if !ok {
				return fmt.Errorf("no migration from schema %d", v)
			}
			if err := m(tx); err != nil {
				return fmt.Errorf("migration %d→%d: %w", v, v+1, err)
			}
		}
		return meta.Put([]byte("schema"), u64(SchemaVersion))
	})
}

// Schema returns the schema version stored in the database.
func (s *Store) Schema() (uint64, error) {
	var v uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketMeta).Get([]byte("schema")); raw != nil {
			v = binary.BigEndian.Uint64(raw)
		}
		return nil
	})
	return v, err
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Feed is the in-process change feed.
func (s *Store) Feed() *Feed { return s.feed }

// Close closes the database; the feed's subscribers are closed too. It
// writes bbolt's freelist first, so the next Open need not walk the whole
// file (freelist.go).
func (s *Store) Close() error {
	s.stopReaper()
	s.feed.close()
	return s.syncFreelistAndClose()
}

// Check runs bbolt's consistency check and returns every problem found.
// It runs in a write transaction that is rolled back: bbolt's check in a
// read transaction reports false problems while another writer (the file
// reaper, mail delivery) commits.
// A read-only store (schulhof doctor without a server) has no writer to
// race with and checks in a read transaction.
func (s *Store) Check() []error {
	var errs []error
	errRollback := errors.New("rollback")
	run := s.db.Update
	if s.db.IsReadOnly() {
		run = s.db.View
	}
	err := run(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errRollback
	})
	if err != nil && !errors.Is(err, errRollback) {
		errs = append(errs, err)
	}
	return errs
}

// Tx is one store transaction. Domain code in this package works on it so
// that several changes (and their feed events and blob references) commit
// together.
type Tx struct {
	s      *Store
	btx    *bolt.Tx
	events []Event
	unref  []string // blobs whose count reached zero in this tx
	freed  int64    // inline content bytes deleted in this tx
	// keys are the sequenced keys given to inline mail in this tx
	// (contentkey.go), by pending blob.
	keys  map[*PendingBlob]string
	scrub bool // an erasure: overwrite blob files before removal (erase.go)
	reap  bool // the file trash got work (files_reap.go)
	// decoded counts file entries read (files.go), so tests can check
	// that a change costs O(depth) and not O(tree).
	decoded int
	// steps counts cursor steps of SearchIndexes (mailsearch.go), so a
	// test can check a sparse set is looked up, not walked.
	steps int

	dirs  map[uint64]*FileEntry // folders read in this tx, shared (files.go)
	trees map[Tree]*treeRecord
}

// publish queues an event; it reaches subscribers only if the tx commits.
func (t *Tx) publish(e Event) { t.events = append(t.events, e) }

func (t *Tx) bucket(name []byte) *bolt.Bucket { return t.btx.Bucket(name) }

// Update runs fn in one write transaction: everything it changes commits
// together or not at all.
func (s *Store) Update(fn func(*Tx) error) error { return s.update(fn) }

// View runs fn in a read-only transaction (a consistent snapshot).
func (s *Store) View(fn func(*Tx) error) error { return s.view(fn) }

// view runs fn in a read-only transaction.
func (s *Store) view(fn func(*Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{s: s, btx: btx}) })
}

// update runs fn in its own write transaction.
func (s *Store) update(fn func(*Tx) error) error {
	return s.write(func(f func(*bolt.Tx) error) error { return s.observedUpdate(false, f) }, fn)
}

// batch runs fn in a write transaction that may be shared with other
// concurrent callers (group commit, groupcommit.go), so they share one
// fsync. fn may run more than once and must not have side effects outside
// the Tx.
func (s *Store) batch(fn func(*Tx) error) error { return s.write(s.groupUpdate, fn) }

// write wraps a bbolt writer so that feed events are queued in commit order
// (while the writer lock is held) and released only when bbolt commits, and
// blobs left without references are removed after the commit.
func (s *Store) write(run func(func(*bolt.Tx) error) error, fn func(*Tx) error) error {
	_, err := s.writeTx(run, fn, false)
	return err
}

// writeTx is write; with scrub (an erasure) blob files left without
// references are overwritten before removal. It returns the content bytes
// the commit freed (inline values and blob files).
func (s *Store) writeTx(run func(func(*bolt.Tx) error) error, fn func(*Tx) error, scrub bool) (int64, error) {
	var tickets []*ticket
	var committed *Tx
	// Tickets of rounds that did not commit are given back whatever
	// happens (a panic too): the feed releases only from its head.
	defer func() {
		for _, tk := range tickets {
			s.feed.cancel(tk) // no-op for the committed one
		}
	}()
	err := run(func(btx *bolt.Tx) error {
		t := &Tx{s: s, btx: btx, scrub: scrub}
		if err := fn(t); err != nil {
			return err
		}
		tk := s.feed.reserve(t.events)
		tickets = append(tickets, tk)
		btx.OnCommit(func() {
			committed = t
			s.feed.commit(tk)
		})
		return nil
	})
	if err != nil {
		return 0, err
	}
	var freed int64
	if committed != nil {
		freed = committed.freed + s.removeUnreferenced(committed.unref, committed.scrub)
		if committed.reap {
			s.wakeReaper()
		}
	}
	return freed, nil
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// logKey is a time-ordered unique key for log buckets.
func (s *Store) logKey(t time.Time) []byte {
	s.blobMu.Lock()
	s.seq++
	seq := s.seq
	s.blobMu.Unlock()
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}
