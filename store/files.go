package store

// File trees: the WebDAV home folder of every account and the folder of
// every group (davd serves them). The tree is virtual: entries in bbolt that
// point at content blobs. No entry ever names a host path, so no request
// path can reach the file system; MOVE and COPY are metadata operations.
//
// Buckets (see the package comment):
//
//	files      tree 0x00 parent-id (8 bytes BE) name → FileEntry
//	filetrees  tree → bytes used (8 bytes BE), the quota counter
//
// A tree is "h:<account>" (home) or "g:<group>". Its root folder has id 0
// and no entry of its own; every other entry gets a store-wide unique id
// from the files bucket's sequence, so a folder keeps its id (and its
// children their keys) when it is renamed or moved within its tree.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	bucketFiles     = []byte("files")
	bucketFileTrees = []byte("filetrees")
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
	buckets = append(buckets, bucketFiles, bucketFileTrees)
	accountDeleteHooks = append(accountDeleteHooks, func(t *Tx, name string) error {
		return t.deleteTree(HomeTree(name))
	})
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

// PropKey is the key of a dead property in FileEntry.Props.
func PropKey(space, local string) string { return "{" + space + "}" + local }

// FileEntry is one file or folder.
type FileEntry struct {
	ID          uint64              `json:"id"`
	Parent      uint64              `json:"parent"`
	Name        string              `json:"name"`
	Dir         bool                `json:"dir,omitempty"`
	Size        int64               `json:"size,omitempty"`
	Hash        string              `json:"hash,omitempty"` // content blob
	ContentType string              `json:"ctype,omitempty"`
	ModTime     time.Time           `json:"mtime"`
	Props       map[string]DeadProp `json:"props,omitempty"`
}

// ETag is a strong entity tag: the content hash for files (same bytes,
// same tag), id and modification time for folders.
func (e *FileEntry) ETag() string {
	if e.Dir {
		return fmt.Sprintf(`"d%x-%x"`, e.ID, e.ModTime.UnixNano())
	}
	return `"` + e.Hash[:32] + `"`
}

func fileKey(tr Tree, parent uint64, name string) []byte {
	k := make([]byte, 0, len(tr)+9+len(name))
	k = append(k, tr...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, parent)
	return append(k, name...)
}

func childPrefix(tr Tree, parent uint64) []byte { return fileKey(tr, parent, "") }

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

func (t *Tx) getEntry(tr Tree, parent uint64, name string) (*FileEntry, error) {
	v := t.bucket(bucketFiles).Get(fileKey(tr, parent, name))
	if v == nil {
		return nil, ErrNotFound
	}
	var e FileEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

func (t *Tx) putEntry(tr Tree, e *FileEntry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return t.bucket(bucketFiles).Put(fileKey(tr, e.Parent, e.Name), v)
}

// touch sets a folder's modification time after its listing changed, so
// clients that cache listings see the change (the root has no entry).
func (t *Tx) touch(tr Tree, dir *FileEntry, now time.Time) error {
	if dir.ID == 0 {
		return nil
	}
	dir.ModTime = now.UTC()
	return t.putEntry(tr, dir)
}

func rootEntry() *FileEntry { return &FileEntry{Dir: true, ModTime: time.Unix(0, 0).UTC()} }

// resolve finds the entry at p; the root is a synthetic folder with id 0.
func (t *Tx) resolve(tr Tree, p string) (*FileEntry, error) {
	parts, err := splitPath(p)
	if err != nil {
		return nil, err
	}
	e := rootEntry()
	for _, name := range parts {
		if !e.Dir {
			return nil, fmt.Errorf("%s: %w", p, ErrNotFound)
		}
		if e, err = t.getEntry(tr, e.ID, name); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return e, nil
}

// resolveParent finds the folder that holds p and p's last name.
func (t *Tx) resolveParent(tr Tree, p string) (*FileEntry, string, error) {
	parts, err := splitPath(p)
	if err != nil {
		return nil, "", err
	}
	if len(parts) == 0 {
		return nil, "", ErrBadPath
	}
	dir, err := t.resolve(tr, strings.Join(parts[:len(parts)-1], "/"))
	if err != nil {
		return nil, "", err
	}
	if !dir.Dir {
		return nil, "", fmt.Errorf("%s: %w", p, ErrNotFound)
	}
	return dir, parts[len(parts)-1], nil
}

// lookup finds the entry at p and the folder that holds it.
func (t *Tx) lookup(tr Tree, p string) (dir, e *FileEntry, err error) {
	dir, name, err := t.resolveParent(tr, p)
	if err != nil {
		return nil, nil, err
	}
	e, err = t.getEntry(tr, dir.ID, name)
	if err != nil {
		return nil, nil, err
	}
	return dir, e, nil
}

func (t *Tx) usage(tr Tree) int64 {
	if v := t.bucket(bucketFileTrees).Get([]byte(tr)); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// addUsage changes a tree's counter; growth past quota (>= 0) fails.
func (t *Tx) addUsage(tr Tree, delta, quota int64) error {
	used := t.usage(tr) + delta
	if delta > 0 && quota >= 0 && used > quota {
		return ErrQuota
	}
	if used < 0 {
		used = 0
	}
	return t.bucket(bucketFileTrees).Put([]byte(tr), u64(uint64(used)))
}

// FileStat returns the entry at p.
func (s *Store) FileStat(tr Tree, p string) (*FileEntry, error) {
	var e *FileEntry
	err := s.view(func(t *Tx) error {
		var err error
		e, err = t.resolve(tr, p)
		return err
	})
	return e, err
}

// FileList returns the entries of the folder at p, sorted by name.
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
		out, err = t.children(tr, dir.ID)
		return err
	})
	return out, err
}

func (t *Tx) children(tr Tree, id uint64) ([]FileEntry, error) {
	var out []FileEntry
	prefix := childPrefix(tr, id)
	c := t.bucket(bucketFiles).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var e FileEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// TreeUsage returns the bytes a tree holds (its quota counter).
func (s *Store) TreeUsage(tr Tree) (int64, error) {
	var n int64
	err := s.view(func(t *Tx) error { n = t.usage(tr); return nil })
	return n, err
}

// FileMkdir creates a folder; its parent must exist (ErrNotFound) and the
// name must be free (ErrExists).
func (s *Store) FileMkdir(tr Tree, p string, now time.Time) error {
	return s.update(func(t *Tx) error {
		dir, name, err := t.resolveParent(tr, p)
		if err != nil {
			return err
		}
		if _, err := t.getEntry(tr, dir.ID, name); err == nil {
			return ErrExists
		}
		id, err := t.bucket(bucketFiles).NextSequence()
		if err != nil {
			return err
		}
		t.publish(tr.event(p))
		if err := t.touch(tr, dir, now); err != nil {
			return err
		}
		return t.putEntry(tr, &FileEntry{ID: id, Parent: dir.ID, Name: name, Dir: true, ModTime: now.UTC()})
	})
}

// PutFile describes new content for FilePut.
type PutFile struct {
	Blob Blob
	// Pending says Blob comes from WriteBlob and is not referenced yet;
	// otherwise it must already be referenced (a copy of another file).
	Pending     bool
	ContentType string
	ModTime     time.Time
	Quota       int64 // bytes the tree may hold; < 0: no limit
	// Check, when set, runs inside the transaction with the current entry
	// (nil if none) and may refuse the write (If-Match).
	Check func(old *FileEntry) error
	// Props, when set, replace the dead properties (COPY).
	Props map[string]DeadProp
}

// FilePut creates or replaces the file at p with new content in one
// transaction: the entry switches to the new blob, the old blob loses its
// reference and the quota counter moves by the size difference. On any
// error nothing changes. created reports a new entry.
func (s *Store) FilePut(tr Tree, p string, in PutFile) (e *FileEntry, created bool, err error) {
	err = s.update(func(t *Tx) error {
		dir, name, err := t.resolveParent(tr, p)
		if err != nil {
			return err
		}
		old, err := t.getEntry(tr, dir.ID, name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if in.Check != nil {
			if err := in.Check(old); err != nil {
				return err
			}
		}
		if old != nil && old.Dir {
			return ErrIsDir
		}
		if !in.Pending && t.bucket(bucketBlobRefs).Get([]byte(in.Blob.Hash)) == nil {
			return fmt.Errorf("blob %s: %w", in.Blob.Hash, ErrNotFound)
		}
		ne := &FileEntry{Parent: dir.ID, Name: name, Size: in.Blob.Size, Hash: in.Blob.Hash,
			ContentType: in.ContentType, ModTime: in.ModTime.UTC(), Props: in.Props}
		delta := in.Blob.Size
		if old != nil {
			ne.ID = old.ID
			if in.Props == nil {
				ne.Props = old.Props
			}
			delta -= old.Size
			if err := t.unrefBlob(old.Hash); err != nil {
				return err
			}
		} else if ne.ID, err = t.bucket(bucketFiles).NextSequence(); err != nil {
			return err
		}
		if err := t.addUsage(tr, delta, in.Quota); err != nil {
			return err
		}
		if err := t.refBlob(in.Blob.Hash); err != nil {
			return err
		}
		e, created = ne, old == nil
		if created {
			if err := t.touch(tr, dir, in.ModTime); err != nil {
				return err
			}
		}
		t.publish(tr.event(p))
		return t.putEntry(tr, ne)
	})
	return e, created, err
}

// FileRemove removes the file or folder (with everything in it) at p.
func (s *Store) FileRemove(tr Tree, p string) error {
	return s.update(func(t *Tx) error {
		dir, e, err := t.lookup(tr, p)
		if err != nil {
			return err
		}
		t.publish(tr.event(p))
		if err := t.touch(tr, dir, time.Now()); err != nil {
			return err
		}
		return t.removeSubtree(tr, e)
	})
}

// removeSubtree deletes e and its descendants, dropping blob references
// and usage.
func (t *Tx) removeSubtree(tr Tree, e *FileEntry) error {
	var freed int64
	err := t.walk(tr, e, func(x *FileEntry) error {
		if !x.Dir {
			freed += x.Size
			if err := t.unrefBlob(x.Hash); err != nil {
				return err
			}
		}
		return t.bucket(bucketFiles).Delete(fileKey(tr, x.Parent, x.Name))
	})
	if err != nil {
		return err
	}
	return t.addUsage(tr, -freed, -1)
}

// walk calls fn for e and then for every descendant (parents first). The
// list is collected before fn runs, so fn may change the bucket.
func (t *Tx) walk(tr Tree, e *FileEntry, fn func(*FileEntry) error) error {
	all := []FileEntry{*e}
	for i := 0; i < len(all); i++ {
		if all[i].Dir {
			kids, err := t.children(tr, all[i].ID)
			if err != nil {
				return err
			}
			all = append(all, kids...)
		}
	}
	for i := range all {
		if err := fn(&all[i]); err != nil {
			return err
		}
	}
	return nil
}

// FileMove renames or moves the entry at src to dst, possibly into another
// tree (home → group folder). dst's parent must exist (ErrNotFound); dst
// must not (ErrExists), unless replace is set and both are files: then the
// old dst goes in the same transaction, so a failed move loses nothing.
// Within a tree only one entry changes; across trees the subtree is
// re-keyed and its bytes move from one counter to the other, checked
// against dstQuota. No content is copied.
func (s *Store) FileMove(srcTree Tree, src string, dstTree Tree, dst string, dstQuota int64, replace bool) error {
	return s.update(func(t *Tx) error {
		sdir, e, err := t.lookup(srcTree, src)
		if err != nil {
			return err
		}
		ddir, dname, err := t.resolveParent(dstTree, dst)
		if err != nil {
			return err
		}
		if old, err := t.getEntry(dstTree, ddir.ID, dname); err == nil {
			if !replace || old.Dir || e.Dir || old.ID == e.ID {
				return ErrExists
			}
			if err := t.removeSubtree(dstTree, old); err != nil {
				return err
			}
		}
		b := t.bucket(bucketFiles)
		t.publish(srcTree.event(src))
		t.publish(dstTree.event(dst))
		now := time.Now()
		if err := t.touch(srcTree, sdir, now); err != nil {
			return err
		}
		if srcTree != dstTree || ddir.ID != sdir.ID {
			if err := t.touch(dstTree, ddir, now); err != nil {
				return err
			}
		}
		if srcTree == dstTree {
			if e.Dir && t.isAncestor(srcTree, e.ID, ddir) {
				return ErrBadPath // a folder into itself
			}
			if err := b.Delete(fileKey(srcTree, e.Parent, e.Name)); err != nil {
				return err
			}
			e.Parent, e.Name = ddir.ID, dname
			return t.putEntry(dstTree, e)
		}
		var size int64
		err = t.walk(srcTree, e, func(x *FileEntry) error {
			size += x.Size
			if err := b.Delete(fileKey(srcTree, x.Parent, x.Name)); err != nil {
				return err
			}
			if x.ID == e.ID {
				x.Parent, x.Name = ddir.ID, dname
			}
			return t.putEntry(dstTree, x)
		})
		if err != nil {
			return err
		}
		if err := t.addUsage(dstTree, size, dstQuota); err != nil {
			return err
		}
		return t.addUsage(srcTree, -size, -1)
	})
}

// isAncestor reports whether folder id is dir or one of dir's ancestors.
func (t *Tx) isAncestor(tr Tree, id uint64, dir *FileEntry) bool {
	for cur := dir; ; {
		if cur.ID == id {
			return true
		}
		if cur.ID == 0 {
			return false
		}
		// Keys name the parent id, not the grandparent, so the way up is a
		// lookup by id.
		p, err := t.entryByID(tr, cur.Parent)
		if err != nil {
			return false
		}
		cur = p
	}
}

// entryByID finds a folder entry by id (root: id 0). It scans the tree,
// which only a MOVE of a folder within its tree needs.
func (t *Tx) entryByID(tr Tree, id uint64) (*FileEntry, error) {
	if id == 0 {
		return rootEntry(), nil
	}
	prefix := append([]byte(tr), 0)
	c := t.bucket(bucketFiles).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var e FileEntry
		if json.Unmarshal(v, &e) == nil && e.ID == id {
			return &e, nil
		}
	}
	return nil, ErrNotFound
}

// PropOp is one PROPPATCH instruction: set Prop, or remove it.
type PropOp struct {
	Remove bool
	Prop   DeadProp
}

// FilePatchProps applies dead property changes to the entry at p in
// order (a set then a remove of one name leaves it removed), in one
// transaction.
func (s *Store) FilePatchProps(tr Tree, p string, ops []PropOp) error {
	return s.update(func(t *Tx) error {
		_, e, err := t.lookup(tr, p)
		if err != nil {
			return err
		}
		if e.Props == nil {
			e.Props = map[string]DeadProp{}
		}
		for _, op := range ops {
			k := PropKey(op.Prop.Space, op.Prop.Local)
			if op.Remove {
				delete(e.Props, k)
			} else {
				e.Props[k] = op.Prop
			}
		}
		if len(e.Props) == 0 {
			e.Props = nil
		}
		return t.putEntry(tr, e)
	})
}

// deleteTree removes a whole tree: entries, blob references, counter.
func (t *Tx) deleteTree(tr Tree) error {
	b := t.bucket(bucketFiles)
	prefix := append([]byte(tr), 0)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		var e FileEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		if !e.Dir {
			if err := t.unrefBlob(e.Hash); err != nil {
				return err
			}
		}
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return t.bucket(bucketFileTrees).Delete([]byte(tr))
}

// DeleteTree removes a whole tree (a group folder when the group goes).
func (s *Store) DeleteTree(tr Tree) error {
	return s.update(func(t *Tx) error {
		t.publish(tr.event("/"))
		return t.deleteTree(tr)
	})
}
