package store

// Privacy provider "files": the person's home folder, the files they
// uploaded into group folders (FileEntry.Uploader), dead properties and
// WebDAV locks. Contents shared with others (the same bytes uploaded by
// someone else, a COPY) keep their reference and stay; content whose last
// reference goes is removed, inline in the same transaction, blob files
// overwritten and unlinked after it (erase.go).

func init() {
	registerPrivacy(PrivacyProvider{
		Name: "files",
		Buckets: [][]byte{bucketFileRoots, bucketFileEntries, bucketFileProps, bucketFileTrash,
			bucketFileInline, bucketDavLocks},
		Categories: []int{CategoryTeaching, CategoryAutomatic},
		Keeps: "Dateien: das Homeverzeichnis mit allen Ordnern und Dateien (Name, Inhalt, Typ, Änderungszeit, " +
			"WebDAV-Eigenschaften), in Gruppenordnern hochgeladene Dateien mit dem Namen der hochladenden Person, " +
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
	type found struct {
		path string
		id   uint64
	}
	for _, tr := range trees {
		var files []found
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
	}
	return nil
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
