package store

// Privacy provider "files": the person's home folder, the files they
// uploaded and the folders they made in group folders (FileEntry.Uploader;
// a folder still holding others' files keeps them under a neutral name), dead properties and
// WebDAV locks. Contents shared with others (the same bytes uploaded by
// someone else, a COPY) keep their reference and stay; content whose last
// reference goes is removed, inline in the same transaction, blob files
// overwritten and unlinked after it (erase.go).

import (
	"errors"
	"fmt"
)

func init() {
	registerPrivacy(PrivacyProvider{
		Name: "files",
		Buckets: [][]byte{bucketFileRoots, bucketFileEntries, bucketFileProps, bucketFileTrash,
			bucketFileInline, bucketDavLocks},
		Categories: []int{CategoryTeaching, CategoryAutomatic},
		Keeps: "Dateien: das Homeverzeichnis mit allen Ordnern und Dateien (Name, Inhalt, Typ, Änderungszeit, " +
			"WebDAV-Eigenschaften), in Gruppenordnern hochgeladene Dateien und angelegte Ordner mit dem Namen der Person, " +
			"WebDAV-Sperren (mit Ablaufzeit)",
		Retention: "bis die Person sie löscht, bis zum Widerruf der Einwilligung oder dem Ende der Schulzeit; " +
			"Dateien in Gruppenordnern bis dahin oder bis die Gruppe aufgelöst wird; Sperren bis zu ihrem Ablauf",
		Erase: eraseFiles,
	})
}

func eraseFiles(s *Store, account string, r *ErasureReport) error {
	// Folders removed earlier may still wait for the reaper: empty them
	// first, so nothing of the tree is left in the trash.
	if err := s.ReapFiles(); err != nil {
		return err
	}
	tr := HomeTree(account)
	err := s.eraseLoop(r, "files", func(t *Tx) (int, bool, error) {
		rec, err := t.treeRec(tr, false)
		if err != nil || rec == nil {
			return 0, true, err
		}
		budget := eraseChunk
		empty, err := t.eraseBelow(rec.Root, &budget)
		if err != nil {
			return 0, false, err
		}
		n := eraseChunk - budget
		if !empty {
			return n, false, nil
		}
		if _, err := t.deletePrefix(bucketFileProps, u64(rec.Root), eraseChunk); err != nil {
			return n, false, err
		}
		t.publish(tr.event("/"))
		delete(t.trees, tr)
		return n + 1, true, t.bucket(bucketFileRoots).Delete([]byte(tr))
	})
	if err != nil {
		return err
	}
	if err := s.eraseGroupUploads(r, account); err != nil {
		return err
	}
	return s.eraseLoop(r, "files", func(t *Tx) (int, bool, error) {
		n, err := t.deletePrefix(bucketDavLocks, []byte(account+"\x00"), eraseChunk)
		return n, n < eraseChunk, err
	})
}

// found is an entry an erasure found in a group tree.
type found struct {
	path string
	id   uint64
}

// eraseGroupUploads removes the files account uploaded into group
// folders: each group tree is searched in one read transaction, then the
// files found are removed by path, eraseChunk per transaction, each
// checked again (same entry, same uploader) so a file replaced meanwhile
// by someone else stays.
func (s *Store) eraseGroupUploads(r *ErasureReport, account string) error {
	var trees []Tree
	if err := s.view(func(t *Tx) error {
		p := []byte("g:")
		c := t.bucket(bucketFileRoots).Cursor()
		for k, _ := c.Seek(p); k != nil && hasPrefix(k, p); k, _ = c.Next() {
			trees = append(trees, Tree(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, tr := range trees {
		var files, dirs []found
		if err := s.view(func(t *Tx) error {
			rec, err := t.treeRec(tr, false)
			if err != nil || rec == nil {
				return err
			}
			var walk func(id uint64, dir string) error
			walk = func(id uint64, dir string) error {
				kids, err := t.children(id)
				if err != nil {
					return err
				}
				for _, e := range kids {
					p := dir + "/" + e.Name
					if e.Dir {
						if err := walk(e.ID, p); err != nil {
							return err
						}
						if e.Uploader == account { // after its contents: deepest first
							dirs = append(dirs, found{p, e.ID})
						}
					} else if e.Uploader == account {
						files = append(files, found{p, e.ID})
					}
				}
				return nil
			}
			return walk(rec.Root, "")
		}); err != nil {
			return err
		}
		for len(files) > 0 {
			chunk := files[:min(len(files), eraseChunk)]
			files = files[len(chunk):]
			n := 0
			if err := s.eraseUpdate(r, func(t *Tx) error {
				n = 0
				for _, f := range chunk {
					_, e, err := t.lookup(tr, f.path, false)
					if err != nil || e.ID != f.id || e.Uploader != account {
						continue // moved, removed or replaced meanwhile
					}
					if err := t.remove(tr, f.path); err != nil {
						return err
					}
					n++
				}
				return nil
			}); err != nil {
				return err
			}
			r.Add("files", n)
		}
		if err := s.eraseGroupFolders(r, account, tr, dirs); err != nil {
			return err
		}
	}
	return nil
}

// erasedFolderName replaces the name of a folder the person made in a
// group tree when others' files are still inside it: a folder name is
// often a person's name ("Referat Max Mustermann").
const erasedFolderName = "Ordner (gelöscht)"

// eraseGroupFolders handles the folders account made in a group tree,
// deepest first: an empty one is removed; one that still holds other
// people's files stays where it is under a neutral name, without its
// creator, so nobody else loses anything.
func (s *Store) eraseGroupFolders(r *ErasureReport, account string, tr Tree, dirs []found) error {
	for len(dirs) > 0 {
		chunk := dirs[:min(len(dirs), eraseChunk)]
		dirs = dirs[len(chunk):]
		n := 0
		if err := s.eraseUpdate(r, func(t *Tx) error {
			n = 0
			for _, d := range chunk {
				_, e, err := t.lookup(tr, d.path, false)
				if err != nil || e.ID != d.id || e.Uploader != account {
					continue // moved, removed or replaced meanwhile
				}
				kids, err := t.children(e.ID)
				if err != nil {
					return err
				}
				if len(kids) == 0 {
					if err := t.remove(tr, d.path); err != nil {
						return err
					}
					n++
					continue
				}
				if err := t.renameInPlace(tr, d.path, e); err != nil {
					return err
				}
				n++
			}
			return nil
		}); err != nil {
			return err
		}
		r.Add("files", n)
	}
	return nil
}

// renameInPlace gives the folder e (at p) the first free neutral name in
// its parent and drops its creator. Children are keyed by the folder's ID,
// so nothing below it moves.
func (t *Tx) renameInPlace(tr Tree, p string, e *FileEntry) error {
	name := erasedFolderName
	for i := 2; ; i++ {
		if _, err := t.getEntry(e.Parent, name); errors.Is(err, ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
		name = fmt.Sprintf("%s %d", erasedFolderName, i)
	}
	if err := t.deleteEntry(e); err != nil {
		return err
	}
	t.publish(tr.event(p))
	e.Name, e.Uploader = name, ""
	return t.putEntry(e)
}

// eraseBelow deletes the entries below folder id, deepest first, at most
// *budget of them; empty says nothing is left below it. The totals of the
// folders are not moved: the whole tree goes.
func (t *Tx) eraseBelow(id uint64, budget *int) (empty bool, err error) {
	prefix := u64(id)
	entries := t.bucket(bucketFileEntries)
	for k, v := entries.Cursor().Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = entries.Cursor().Seek(prefix) {
		if *budget <= 0 {
			return false, nil
		}
		var e FileEntry
		if err := decodeEntry(v, &e); err != nil {
			return false, err
		}
		if e.Dir {
			if empty, err := t.eraseBelow(e.ID, budget); err != nil || !empty {
				return false, err
			}
			if *budget <= 0 {
				return false, nil
			}
		}
		if err := entries.Delete(entryKey(e.Parent, e.Name)); err != nil {
			return false, err
		}
		if err := t.deleteProps(&e); err != nil {
			return false, err
		}
		if !e.Dir {
			if err := t.unrefBlob(e.Hash); err != nil {
				return false, err
			}
		}
		*budget--
	}
	return true, nil
}
