package store

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"time"
)

// The files part of an export: the home folder as it is, in dateien/,
// folders kept (empty ones too); the files the person uploaded into group
// folders, in dateien-gruppen/<group>/; the dead properties of both in
// dateien-eigenschaften.json. Names pass through safeNames; contents are
// copied from their blob files (or inline values) one file at a time. A
// folder's listing is read exportChunk entries per read transaction and
// each file is opened on its own, so no transaction stays open while a
// large file is copied. A file removed meanwhile is left out.

func init() { registerExport("files", exportFiles) }

func exportFiles(s *Store, account string, out ExportSink) error {
	var root uint64
	if err := s.view(func(t *Tx) error {
		r, err := t.treeRec(HomeTree(account), false)
		if r != nil {
			root = r.Root
		}
		return err
	}); err != nil {
		return err
	}
	if _, err := out.Create("dateien/", time.Now()); err != nil {
		return err
	}
	if root != 0 {
		if err := exportFolder(s, root, "dateien", out, nil); err != nil {
			return err
		}
	}
	groups, err := exportGroupUploads(s, account, out)
	if err != nil {
		return err
	}
	list, err := newJSONList(out, "dateien-eigenschaften.json")
	if err != nil {
		return err
	}
	if root != 0 {
		if err := exportProps(s, list, root, "dateien", nil); err != nil {
			return err
		}
	}
	uploaded := func(e *FileEntry) bool { return e.Uploader == account }
	for _, g := range groups {
		if err := exportProps(s, list, g.root, g.dir, uploaded); err != nil {
			return err
		}
	}
	return list.close()
}

// exportFolder writes the folder id (below dir) and everything in it.
// keep, when set, picks the files to export (group folders: only what the
// person uploaded); folders are then written only when they hold one.
func exportFolder(s *Store, id uint64, dir string, out ExportSink, keep func(*FileEntry) bool) error {
	return walkFolder(s, id, dir, func(k []byte, e *FileEntry, p string) error {
		switch {
		case e.Dir && keep == nil:
			_, err := out.Create(p+"/", e.ModTime)
			return err
		case e.Dir || keep != nil && !keep(e):
			return nil
		}
		return exportFile(s, k, e, p, out)
	})
}

// walkFolder calls visit for every entry below the folder id, with its
// key and its path in the zip (below dir). Folders are listed
// exportChunk entries per read transaction, visit runs outside them.
func walkFolder(s *Store, id uint64, dir string, visit func(k []byte, e *FileEntry, p string) error) error {
	type pending struct {
		id  uint64
		dir string
	}
	stack := []pending{{id, dir}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		// Names clash only among siblings: one namer per folder keeps
		// memory to the largest folder, not the whole tree.
		names := newSafeNames()
		err := s.scanChunks(bucketFileEntries, u64(f.id), func(k, v []byte) error {
			var e FileEntry
			if err := decodeEntry(v, &e); err != nil {
				return err
			}
			p := names.join(f.dir, e.Name)
			if e.Dir {
				stack = append(stack, pending{e.ID, p})
			}
			return visit(k, &e, p)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// exportProps writes the WebDAV dead properties (what clients such as
// Windows store beside a file: times, attributes) of the entries below
// root to dateien-eigenschaften.json, in a second walk; keep as for
// exportFolder.
func exportProps(s *Store, list *jsonList, root uint64, dir string, keep func(*FileEntry) bool) error {
	type prop struct {
		Namespace string `json:"namensraum"`
		Name      string `json:"name"`
		Lang      string `json:"sprache,omitempty"`
		Value     string `json:"wert"`
	}
	return walkFolder(s, root, dir, func(k []byte, e *FileEntry, p string) error {
		if e.PropCount == 0 && e.PropBytes == 0 || keep != nil && (e.Dir || !keep(e)) {
			return nil
		}
		var m map[string]DeadProp
		if err := s.view(func(t *Tx) error {
			var err error
			m, err = t.props(e)
			return err
		}); err != nil {
			return err
		}
		var props []prop
		for _, dp := range m {
			props = append(props, prop{dp.Space, dp.Local, dp.Lang, string(dp.Inner)})
		}
		slices.SortFunc(props, func(a, b prop) int { return strings.Compare(a.Namespace+a.Name, b.Namespace+b.Name) })
		if e.Dir {
			p += "/"
		}
		return list.add(map[string]any{"pfad": p, "eigenschaften": props})
	})
}

// exportFile copies one file's content if its entry (key k) still holds
// the content e names.
func exportFile(s *Store, k []byte, e *FileEntry, p string, out ExportSink) error {
	r, err := s.openEntry(k, e.Hash)
	if errors.Is(err, ErrNotFound) {
		return nil // removed or replaced since the listing
	}
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := out.Create(p, e.ModTime)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

// openEntry opens the content of the file entry at key k if it still
// names hash, like FileOpen: blobMu keeps the blob file from being
// removed between the check and the open.
func (s *Store) openEntry(k []byte, hash string) (io.ReadCloser, error) {
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	var r io.ReadCloser
	err := s.view(func(t *Tx) error {
		v := t.bucket(bucketFileEntries).Get(k)
		var e FileEntry
		if v == nil || decodeEntry(v, &e) != nil || e.Dir || e.Hash != hash {
			return ErrNotFound
		}
		if c := t.bucket(bucketFileInline).Get([]byte(hash)); c != nil {
			r = io.NopCloser(bytes.NewReader(bytes.Clone(c)))
			return nil
		}
		f, err := s.openBlobFile(hash)
		r = f
		return err
	})
	return r, err
}

// groupFolder is a group tree's root and its folder in the zip.
type groupFolder struct {
	root uint64
	dir  string
}

// exportGroupUploads writes the files the person put into group folders
// (FileEntry.Uploader) to dateien-gruppen/<group>/…, in every group tree
// (also of groups the person has left), and returns the trees walked.
// Files from before the uploader was recorded name nobody and are not
// included.
func exportGroupUploads(s *Store, account string, out ExportSink) ([]groupFolder, error) {
	names := newSafeNames()
	var walked []groupFolder
	err := s.scanChunks(bucketFileRoots, []byte("g:"), func(k, v []byte) error {
		var rec treeRecord
		if err := decodeTreeRec(v, &rec); err != nil {
			return err
		}
		g := groupFolder{rec.Root, names.join("dateien-gruppen", string(k[2:]))}
		walked = append(walked, g)
		return exportFolder(s, g.root, g.dir, out, func(e *FileEntry) bool { return e.Uploader == account })
	})
	return walked, err
}
