package store

// Migration 1 → 2 of the file trees: entries keyed by tree 0x00 parent-id
// name with their dead properties inside (bucket "files") and a bytes
// counter per tree ("filetrees") become entries keyed by parent id alone,
// properties in fileprops, a root folder id and totals per tree
// (fileroots), and totals per folder (files.go). Ids are kept; each tree's
// root (id 0 before) gets a new one. Property bytes now count in the quota.

import (
	"bytes"
	"encoding/json"
	"sort"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketFilesV1     = []byte("files")
	bucketFileTreesV1 = []byte("filetrees")
)

func init() { registerMigration(1, migrateFilesV2) }

// v1FileEntry is the record of schema 1.
type v1FileEntry struct {
	FileEntry
	Props map[string]DeadProp `json:"props,omitempty"`
}

func migrateFilesV2(btx *bolt.Tx) error {
	old := btx.Bucket(bucketFilesV1)
	if old == nil {
		return nil
	}
	t := &Tx{btx: btx}
	byTree := map[Tree][]*FileEntry{}
	var maxID uint64
	err := old.ForEach(func(k, v []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			return nil
		}
		var e v1FileEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		x := e.FileEntry
		x.Props = e.Props
		byTree[Tree(k[:i])] = append(byTree[Tree(k[:i])], &x)
		maxID = max(maxID, x.ID)
		return nil
	})
	if err != nil {
		return err
	}
	entries := t.bucket(bucketFileEntries)
	if err := entries.SetSequence(max(entries.Sequence(), old.Sequence(), maxID)); err != nil {
		return err
	}
	trees := make([]string, 0, len(byTree))
	for tr := range byTree {
		trees = append(trees, string(tr))
	}
	sort.Strings(trees)
	for _, name := range trees {
		if err := migrateTree(t, Tree(name), byTree[Tree(name)]); err != nil {
			return err
		}
	}
	if err := btx.DeleteBucket(bucketFilesV1); err != nil {
		return err
	}
	if btx.Bucket(bucketFileTreesV1) != nil {
		return btx.DeleteBucket(bucketFileTreesV1)
	}
	return nil
}

// migrateTree writes one tree's entries in the new layout and computes the
// totals bottom-up.
func migrateTree(t *Tx, tr Tree, es []*FileEntry) error {
	rec, err := t.treeRec(tr, true)
	if err != nil {
		return err
	}
	kids := map[uint64][]*FileEntry{}
	for _, e := range es {
		if e.Parent == 0 {
			e.Parent = rec.Root
		}
		kids[e.Parent] = append(kids[e.Parent], e)
	}
	// totals fills in a folder's totals from its children (depth-first).
	var totals func(id uint64, level int) (bytes, entries, height int64, err error)
	totals = func(id uint64, level int) (int64, int64, int64, error) {
		var b, n, h int64
		if level > 10_000 {
			return 0, 0, 0, ErrBadPath // a cycle; schema 1 could not make one
		}
		for _, e := range kids[id] {
			if err := t.setProps(e, e.Props); err != nil {
				return 0, 0, 0, err
			}
			if e.Dir {
				cb, cn, ch, err := totals(e.ID, level+1)
				if err != nil {
					return 0, 0, 0, err
				}
				e.Bytes, e.Entries, e.Height = cb, cn, ch
			}
			b += e.charge()
			n += e.count()
			h = max(h, 1+e.Height)
			if err := t.putEntry(e); err != nil {
				return 0, 0, 0, err
			}
		}
		return b, n, h, nil
	}
	b, n, _, err := totals(rec.Root, 0)
	if err != nil {
		return err
	}
	rec.Bytes, rec.Entries = b, n
	return t.putTreeRec(tr, rec)
}
