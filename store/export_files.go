package store

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// The files part of an export: the home folder as it is, in dateien/,
// folders kept (empty ones too), and the files the person uploaded into
// group folders, in dateien-gruppen/<group>/; names through safeNames, contents copied
// from their blob files (or inline values) one file at a time. A folder's
// listing is read exportChunk entries per read transaction; each file is
// opened on its own, so no transaction stays open while a large file is
// copied. A file removed meanwhile is left out.

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
	return exportGroupUploads(s, account, out)
}

// exportFolder writes the folder id (below dir) and everything in it.
// keep, when set, picks the files to export (group folders: only what the
// person uploaded); folders are then written only when they hold one.
func exportFolder(s *Store, id uint64, dir string, out ExportSink, keep func(*FileEntry) bool) error {
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
				if keep == nil {
					if _, err := out.Create(p+"/", e.ModTime); err != nil {
						return err
					}
				}
				stack = append(stack, pending{e.ID, p})
				return nil
			}
			if keep != nil && !keep(&e) {
				return nil
			}
			return exportFile(s, k, &e, p, out)
		})
		if err != nil {
			return err
		}
	}
	return nil
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

// exportGroupUploads writes the files the person put into group folders
// (FileEntry.Uploader) to dateien-gruppen/<group>/…, in every group tree
// (also of groups the person has left). Files from before the uploader
// was recorded name nobody and are not included.
func exportGroupUploads(s *Store, account string, out ExportSink) error {
	names := newSafeNames()
	return s.scanChunks(bucketFileRoots, []byte("g:"), func(k, v []byte) error {
		var rec treeRecord
		if err := decodeTreeRec(v, &rec); err != nil {
			return err
		}
		dir := names.join("dateien-gruppen", string(k[2:]))
		return exportFolder(s, rec.Root, dir, out, func(e *FileEntry) bool { return e.Uploader == account })
	})
}
