package store

// File trees: the WebDAV home folder of every account and the folder of
// every group (davd serves them). The tree is virtual: entries in bbolt that
// point at content (blobs, or inline values for small files, inline.go). No
// entry ever names a host path, so no request path can reach the file
// system; MOVE and COPY are metadata operations.
//
// Buckets (see the package comment):
//
//	fileroots    tree → treeRecord: the root folder's id and what the tree
//	             holds (bytes for the quota, entries for entries_per_tree)
//	fileentries  parent-id (8 bytes BE) name → FileEntry (small: no
//	             listing, no properties)
//
// Both are binary records (files_codec.go); properties are JSON.
//	fileprops    entry id (8 bytes BE) SHA-256 of the property's name (16
//	             bytes) → DeadProp: one key per property, so a PROPPATCH
//	             writes only what it changes
//	filetrash    folder id (8 bytes BE) → "": removed folders whose
//	             contents the reaper still deletes (files_reap.go)
//
// A tree is "h:<account>" (home) or "g:<group>". Every folder, the root
// included, has a store-wide unique id, so keys do not name the tree: a
// folder keeps its id (and its children their keys) when it is renamed or
// moved, also into another tree. Every folder record carries the totals
// of what lies below it (bytes, entries, height), updated along the path
// of each change, so that a MOVE or DELETE of a folder with any number of
// files costs O(depth) small reads and writes, and the totals of the tree
// are checked against its bounds in the same transaction as the change.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	bucketFileRoots   = []byte("fileroots")
	bucketFileEntries = []byte("fileentries")
	bucketFileProps   = []byte("fileprops")
	bucketFileTrash   = []byte("filetrash")
)

// FileChanged is published for every committed change in a file tree;
// Account or Group names the tree, Data the path (string).
const FileChanged EventKind = "file.changed"

var (
	// ErrQuota means the change would take a tree over its quota.
	ErrQuota = errors.New("quota exceeded")
	// ErrNotDir means a path names a file where a folder is needed.
	ErrNotDir = errors.New("not a folder")
	// ErrIsDir means a path names a folder where a file is needed.
	ErrIsDir = errors.New("is a folder")
	// ErrBadPath means a path that no entry may have (empty name, "..", a
	// folder moved into itself, a change to a tree's root).
	ErrBadPath = errors.New("invalid path")
)

func init() {
	buckets = append(buckets, bucketFileRoots, bucketFileEntries, bucketFileProps, bucketFileTrash)
}

// Tree names one file tree.
type Tree string

// HomeTree is an account's home folder.
func HomeTree(account string) Tree { return Tree("h:" + account) }

// GroupTree is a group's folder.
func GroupTree(group string) Tree { return Tree("g:" + group) }

// event says whose tree changed.
func (tr Tree) event(p string) Event {
	e := Event{Kind: FileChanged, Data: p}
	if strings.HasPrefix(string(tr), "h:") {
		e.Account = string(tr[2:])
	} else {
		e.Group = string(tr[2:])
	}
	return e
}

// DeadProp is a WebDAV dead property (PROPPATCH): its XML name, language
// and inner XML, kept as the client sent them.
type DeadProp struct {
	Space string `json:"ns"`
	Local string `json:"name"`
	Lang  string `json:"lang,omitempty"`
	Inner []byte `json:"xml,omitempty"`
}

// Bytes is what the property costs in the quota.
func (p DeadProp) Bytes() int64 {
	return int64(len(p.Space) + len(p.Local) + len(p.Lang) + len(p.Inner))
}

// PropKey is the key of a dead property in FileEntry.Props.
func PropKey(space, local string) string { return "{" + space + "}" + local }

// FileEntry is one file or folder.
type FileEntry struct {
	ID          uint64    `json:"id"`
	Parent      uint64    `json:"parent"`
	Name        string    `json:"name"`
	Dir         bool      `json:"dir,omitempty"`
	Size        int64     `json:"size,omitempty"`
	Hash        string    `json:"hash,omitempty"` // content
	ContentType string    `json:"ctype,omitempty"`
	ModTime     time.Time `json:"mtime"`
	// Uploader is the account whose PUT or COPY wrote the file's current
	// content; erasing that account removes the file from group folders
	// too (privacy_files.go). Empty in records older than the field:
	// unknown.
	Uploader string `json:"uploader,omitempty"`
	// PropBytes is what this entry's own dead properties cost, PropCount
	// how many it has (files_props.go).
	PropBytes int64 `json:"pbytes,omitempty"`
	PropCount int64 `json:"pcount,omitempty"`
	// Folders only: what lies below them. Height (levels below) is an
	// upper bound: removals do not lower it until the folder is empty, so
	// after deep subfolders are removed a MOVE can be refused by
	// path_depth that would just fit.
	Bytes   int64 `json:"bytes,omitempty"`
	Entries int64 `json:"entries,omitempty"`
	Height  int64 `json:"height,omitempty"`
	// Props are the dead properties, kept in their own bucket (read with
	// the entry by FileStat, on demand by FileProps).
	Props map[string]DeadProp `json:"-"`
}

// Charge is the bytes the entry and everything below it hold (contents
// and dead properties).
func (e *FileEntry) Charge() int64 { return e.Size + e.PropBytes + e.Bytes }

// Count is the entries it and everything below it are.
func (e *FileEntry) Count() int64 { return 1 + e.Entries }

func (e *FileEntry) charge() int64 { return e.Charge() }
func (e *FileEntry) count() int64  { return e.Count() }

// ETag is a strong entity tag: the content hash for files (same bytes,
// same tag), id and modification time for folders.
func (e *FileEntry) ETag() string {
	if e.Dir {
		return fmt.Sprintf(`"d%x-%x"`, e.ID, e.ModTime.UnixNano())
	}
	return `"` + e.Hash[:32] + `"`
}

// treeRecord is a tree's root and its totals.
type treeRecord struct {
	Root    uint64 `json:"root"`
	Bytes   int64  `json:"bytes"`
	Entries int64  `json:"entries"`
}

// FileLimits bound one change to a tree; a number < 0 means no limit. They
// are checked in the transaction of the change, so concurrent requests
// cannot pass them together.
type FileLimits struct {
	Quota     int64 // bytes the tree may hold (contents and dead properties)
	Entries   int64 // files and folders in the tree
	Depth     int64 // path components of any entry below the tree's root
	NameBytes int64 // one file or folder name
	Props     int64 // dead properties on one entry
	PropBytes int64 // one dead property (DeadProp.Bytes)
}

// NoLimits is FileLimits without any limit.
func NoLimits() FileLimits { return FileLimits{-1, -1, -1, -1, -1, -1} }

// Limit names what a LimitError exceeded.
type Limit string

const (
	LimitEntries   Limit = "entries"
	LimitDepth     Limit = "depth"
	LimitName      Limit = "name"
	LimitProps     Limit = "props"
	LimitPropBytes Limit = "prop-bytes"
)

// LimitError refuses a change that would exceed a bound (FileLimits,
// MailLimits); N is the number the change would have reached, and nothing
// of the change is stored.
type LimitError struct {
	Limit Limit
	N     int64
}

func (e *LimitError) Error() string { return fmt.Sprintf("limit %s exceeded (%d)", e.Limit, e.N) }

func entryKey(parent uint64, name string) []byte {
	k := make([]byte, 0, 8+len(name))
	k = binary.BigEndian.AppendUint64(k, parent)
	return append(k, name...)
}

// splitPath turns "/a/b/" into ["a", "b"]; "" and "/" are the root.
func splitPath(p string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "":
			continue
		case ".", "..":
			return nil, ErrBadPath
		}
		out = append(out, s)
	}
	return out, nil
}

// getEntry reads one entry. Folders are decoded once per transaction and
// shared, so that two paths through the same folder (a MOVE within a
// tree) change one record.
func (t *Tx) getEntry(parent uint64, name string) (*FileEntry, error) {
	v := t.bucket(bucketFileEntries).Get(entryKey(parent, name))
	if v == nil {
		return nil, ErrNotFound
	}
	var e FileEntry
	t.decoded++
	if err := decodeEntry(v, &e); err != nil {
		return nil, err
	}
	if !e.Dir {
		return &e, nil
	}
	if d, ok := t.dirs[e.ID]; ok {
		return d, nil
	}
	if t.dirs == nil {
		t.dirs = map[uint64]*FileEntry{}
	}
	t.dirs[e.ID] = &e
	return &e, nil
}

func (t *Tx) putEntry(e *FileEntry) error {
	return t.bucket(bucketFileEntries).Put(entryKey(e.Parent, e.Name), encodeEntry(e))
}

func (t *Tx) deleteEntry(e *FileEntry) error {
	return t.bucket(bucketFileEntries).Delete(entryKey(e.Parent, e.Name))
}

// treeRec reads a tree's record; with create a missing tree gets its root
// folder. Without create a missing tree is nil (an empty tree).
func (t *Tx) treeRec(tr Tree, create bool) (*treeRecord, error) {
	if r, ok := t.trees[tr]; ok {
		return r, nil
	}
	var r *treeRecord
	if v := t.bucket(bucketFileRoots).Get([]byte(tr)); v != nil {
		r = &treeRecord{}
		if err := decodeTreeRec(v, r); err != nil {
			return nil, err
		}
	} else if create {
		id, err := t.bucket(bucketFileEntries).NextSequence()
		if err != nil {
			return nil, err
		}
		r = &treeRecord{Root: id}
		if err := t.putTreeRec(tr, r); err != nil {
			return nil, err
		}
	} else {
		return nil, nil
	}
	if t.trees == nil {
		t.trees = map[Tree]*treeRecord{}
	}
	t.trees[tr] = r
	return r, nil
}

func (t *Tx) putTreeRec(tr Tree, r *treeRecord) error {
	return t.bucket(bucketFileRoots).Put([]byte(tr), encodeTreeRec(r))
}

// chain is the way from a tree's root down to one folder: dirs[0] is the
// root (a synthetic entry), dirs[i] the folder i levels below it.
type chain struct {
	tr   Tree
	rec  *treeRecord // nil: the tree holds nothing yet (only when reading)
	dirs []*FileEntry
}

func (c *chain) last() *FileEntry { return c.dirs[len(c.dirs)-1] }

// childDepth is the depth (path components) of an entry in c's last folder.
func (c *chain) childDepth() int64 { return int64(len(c.dirs)) }

func rootEntry(id uint64) *FileEntry {
	return &FileEntry{ID: id, Dir: true, ModTime: time.Unix(0, 0).UTC()}
}

// chainTo follows the folders named by parts from the root: one small
// read per level.
func (t *Tx) chainTo(tr Tree, parts []string, create bool) (*chain, error) {
	rec, err := t.treeRec(tr, create)
	if err != nil {
		return nil, err
	}
	root := rootEntry(0) // id 0 has no children: a tree without a record is empty
	if rec != nil {
		root.ID = rec.Root
	}
	c := &chain{tr: tr, rec: rec, dirs: []*FileEntry{root}}
	for _, name := range parts {
		e, err := t.getEntry(c.last().ID, name)
		if err != nil {
			return nil, err
		}
		if !e.Dir {
			return nil, ErrNotFound
		}
		c.dirs = append(c.dirs, e)
	}
	return c, nil
}

// resolveParent finds the way to the folder that holds p, and p's last
// name. create gives a tree without a record its root (for writes).
func (t *Tx) resolveParent(tr Tree, p string, create bool) (*chain, string, error) {
	parts, err := splitPath(p)
	if err != nil {
		return nil, "", err
	}
	if len(parts) == 0 {
		return nil, "", ErrBadPath
	}
	c, err := t.chainTo(tr, parts[:len(parts)-1], create)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", p, err)
	}
	return c, parts[len(parts)-1], nil
}

// lookup finds the entry at p and the way to the folder that holds it.
func (t *Tx) lookup(tr Tree, p string, create bool) (*chain, *FileEntry, error) {
	c, name, err := t.resolveParent(tr, p, create)
	if err != nil {
		return nil, nil, err
	}
	e, err := t.getEntry(c.last().ID, name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p, err)
	}
	return c, e, nil
}

// resolve finds the entry at p; the root is a synthetic folder.
func (t *Tx) resolve(tr Tree, p string) (*FileEntry, error) {
	parts, err := splitPath(p)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		c, err := t.chainTo(tr, nil, false)
		if err != nil {
			return nil, err
		}
		return c.last(), nil
	}
	_, e, err := t.lookup(tr, p, false)
	return e, err
}

// grow checks a change of what lies below c's last folder against lim and
// applies it: bytes and entries added (negative: removed), and the depth
// of the deepest entry added (0: none).
func (t *Tx) grow(c *chain, bytes, entries, deepest int64, lim FileLimits) error {
	if bytes > 0 && lim.Quota >= 0 && c.rec.Bytes+bytes > lim.Quota {
		return ErrQuota
	}
	if entries > 0 && lim.Entries >= 0 && c.rec.Entries+entries > lim.Entries {
		return &LimitError{LimitEntries, c.rec.Entries + entries}
	}
	if deepest > 0 && lim.Depth >= 0 && deepest > lim.Depth {
		return &LimitError{LimitDepth, deepest}
	}
	return t.shift(c, bytes, entries, deepest)
}

// shift moves the totals of every folder on c and of the tree.
func (t *Tx) shift(c *chain, bytes, entries, deepest int64) error {
	if bytes == 0 && entries == 0 && deepest == 0 {
		return nil
	}
	for i, d := range c.dirs[1:] {
		d.Bytes = max(d.Bytes+bytes, 0)
		d.Entries = max(d.Entries+entries, 0)
		d.Height = max(d.Height, deepest-int64(i+1))
		if d.Entries == 0 {
			d.Height = 0 // exact again once a folder is empty
		}
		if err := t.putEntry(d); err != nil {
			return err
		}
	}
	c.rec.Bytes = max(c.rec.Bytes+bytes, 0)
	c.rec.Entries = max(c.rec.Entries+entries, 0)
	return t.putTreeRec(c.tr, c.rec)
}

func checkName(name string, lim FileLimits) error {
	if lim.NameBytes >= 0 && int64(len(name)) > lim.NameBytes {
		return &LimitError{LimitName, int64(len(name))}
	}
	return nil
}

// touch sets a folder's modification time after its listing changed, so
// clients that cache listings see the change (the root has no entry).
func (t *Tx) touch(c *chain, now time.Time) error {
	if len(c.dirs) == 1 {
		return nil
	}
	d := c.last()
	d.ModTime = now.UTC()
	return t.putEntry(d)
}

// FileStat returns the entry at p with its dead properties.
func (s *Store) FileStat(tr Tree, p string) (*FileEntry, error) {
	var e *FileEntry
	err := s.view(func(t *Tx) error {
		x, err := t.resolve(tr, p)
		if err != nil {
			return err
		}
		e, err = t.withProps(x)
		return err
	})
	return e, err
}

// FileList returns the entries of the folder at p, sorted by name,
// without their dead properties (FileProps reads them one entry at a
// time), so a listing's memory does not grow with what they hold.
func (s *Store) FileList(tr Tree, p string) ([]FileEntry, error) {
	var out []FileEntry
	err := s.view(func(t *Tx) error {
		dir, err := t.resolve(tr, p)
		if err != nil {
			return err
		}
		if !dir.Dir {
			return ErrNotDir
		}
		out, err = t.children(dir.ID)
		return err
	})
	return out, err
}

// FileProps reads the dead properties of an entry from FileList (nil:
// none, or the entry is gone).
func (s *Store) FileProps(e *FileEntry) (map[string]DeadProp, error) {
	if e.Props != nil || e.PropBytes == 0 {
		return e.Props, nil
	}
	var m map[string]DeadProp
	err := s.view(func(t *Tx) error {
		var err error
		m, err = t.props(e)
		return err
	})
	return m, err
}

func (t *Tx) children(id uint64) ([]FileEntry, error) {
	var out []FileEntry
	prefix := u64(id)
	c := t.bucket(bucketFileEntries).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var e FileEntry
		t.decoded++
		if err := decodeEntry(v, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// TreeUsage returns the bytes a tree holds (its quota counter): contents
// and dead properties.
func (s *Store) TreeUsage(tr Tree) (int64, error) {
	var n int64
	err := s.view(func(t *Tx) error {
		r, err := t.treeRec(tr, false)
		if r != nil {
			n = r.Bytes
		}
		return err
	})
	return n, err
}

// TreeEntries returns how many files and folders a tree holds.
func (s *Store) TreeEntries(tr Tree) (int64, error) {
	var n int64
	err := s.view(func(t *Tx) error {
		r, err := t.treeRec(tr, false)
		if r != nil {
			n = r.Entries
		}
		return err
	})
	return n, err
}
