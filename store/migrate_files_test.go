package store

import (
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A schema 1 database (entries under tree 0x00 parent name, properties
// inside, a bytes counter per tree) opens as schema 2 with the same tree,
// properties, ids and content references, and the totals computed.
func TestMigrateFilesV1(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := mustBlob(t, s, "hello")
	b := mustBlob(t, s, "hello world")
	s.Close()

	db, err := bolt.Open(filepath.Join(dir, "schulhof.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := func(tr string, parent uint64, name string) []byte {
		k := append([]byte(tr), 0)
		k = binary.BigEndian.AppendUint64(k, parent)
		return append(k, name...)
	}
	type v1 struct {
		ID     uint64              `json:"id"`
		Parent uint64              `json:"parent"`
		Name   string              `json:"name"`
		Dir    bool                `json:"dir,omitempty"`
		Size   int64               `json:"size,omitempty"`
		Hash   string              `json:"hash,omitempty"`
		MTime  time.Time           `json:"mtime"`
		Props  map[string]DeadProp `json:"props,omitempty"`
	}
	put := func(b *bolt.Bucket, k []byte, e v1) {
		v, _ := json.Marshal(e)
		if err := b.Put(k, v); err != nil {
			t.Fatal(err)
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		// Undo what schema 2 created, as a schema 1 database looked.
		for _, n := range [][]byte{bucketFileRoots, bucketFileEntries, bucketFileProps, bucketFileTrash, bucketFileInline} {
			if err := tx.DeleteBucket(n); err != nil {
				return err
			}
		}
		files, _ := tx.CreateBucket(bucketFilesV1)
		trees, _ := tx.CreateBucket(bucketFileTreesV1)
		files.SetSequence(3)
		prop := DeadProp{Space: "urn:x", Local: "p", Inner: []byte("v")}
		put(files, key("h:a", 0, "docs"), v1{ID: 1, Name: "docs", Dir: true})
		put(files, key("h:a", 1, "a.txt"), v1{ID: 2, Parent: 1, Name: "a.txt", Size: 5, Hash: a.Hash,
			Props: map[string]DeadProp{PropKey("urn:x", "p"): prop}})
		put(files, key("g:5a", 0, "b.txt"), v1{ID: 3, Name: "b.txt", Size: 11, Hash: b.Hash})
		trees.Put([]byte("h:a"), u64(5))
		trees.Put([]byte("g:5a"), u64(11))
		refs := tx.Bucket(bucketBlobRefs)
		refs.Put([]byte(a.Hash), u64(1))
		refs.Put([]byte(b.Hash), u64(1))
		return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Schema(); v != SchemaVersion {
		t.Fatalf("schema %d", v)
	}
	e, err := s.FileStat(HomeTree("a"), "/docs/a.txt")
	if err != nil || e.ID != 2 || e.Size != 5 || e.Hash != a.Hash || string(e.Props[PropKey("urn:x", "p")].Inner) != "v" {
		t.Fatalf("migrated entry %+v %v", e, err)
	}
	if d, _ := s.FileStat(HomeTree("a"), "/docs"); d.Bytes != 12 || d.Entries != 1 || d.Height != 1 {
		t.Fatalf("folder totals %+v", d)
	}
	if u, _ := s.TreeUsage(HomeTree("a")); u != 12 { // 5 content + 7 property
		t.Fatalf("home usage %d", u)
	}
	if n, _ := s.TreeEntries(GroupTree("5a")); n != 1 {
		t.Fatalf("group entries %d", n)
	}
	// New ids continue after the old ones; a move works on the new layout.
	if err := s.FileMkdir(HomeTree("a"), "/new", time.Now(), NoLimits()); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.FileStat(HomeTree("a"), "/new"); d.ID <= 3 {
		t.Fatalf("new id %d reuses an old one", d.ID)
	}
	if err := s.FileMove(HomeTree("a"), "/docs", GroupTree("5a"), "/docs", NoLimits(), false); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.TreeUsage(GroupTree("5a")); u != 23 {
		t.Fatalf("group usage %d", u)
	}
	if n, _ := s.BlobCount(); n != 2 {
		t.Fatalf("blobs %d", n)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
