package store

// Verifying a backup reads every byte of it: each file against its
// manifest checksum, the database with bbolt's own check, and every blob
// the database references against the files present. Findings are German:
// the admin reads them.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackupFinding is one problem found in a backup.
type BackupFinding struct {
	Backup string // the backup's folder
	Error  bool   // false: a warning that does not make the backup unusable
	Text   string // German, for the admin
}

// BackupReport is what VerifyBackups checked and found.
type BackupReport struct {
	Checked  []string // backup folders verified
	Files    int      // files whose checksum was computed or shared by a link
	Bytes    int64
	Findings []BackupFinding
}

// OK reports whether no finding is an error.
func (r *BackupReport) OK() bool {
	for _, f := range r.Findings {
		if f.Error {
			return false
		}
	}
	return len(r.Checked) > 0
}

// VerifyBackups checks the backup folder p, or every complete backup in
// the backup directory p. A file hard-linked into several backups is
// hashed once.
func VerifyBackups(p string) (*BackupReport, error) {
	r := &BackupReport{}
	var folders []string
	if _, err := os.Stat(filepath.Join(p, backupManifestName)); err == nil {
		folders = []string{p}
	} else {
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
		list, err := ListBackups(p)
		if err != nil {
			return nil, err
		}
		for _, b := range list {
			folders = append(folders, b.Path)
		}
		if len(folders) == 0 {
			r.Findings = append(r.Findings, BackupFinding{Backup: p, Error: true,
				Text: "keine vollständige Sicherung gefunden (kein Ordner mit manifest.json)"})
		}
	}
	v := &verifier{r: r, sums: map[fileID]string{}}
	for _, f := range folders {
		v.backup(f)
		r.Checked = append(r.Checked, f)
	}
	return r, nil
}

type fileID struct{ dev, ino uint64 }

type verifier struct {
	r    *BackupReport
	sums map[fileID]string // SHA-256 by inode: links are hashed once
	buf  []byte
}

func (v *verifier) add(backup string, isErr bool, format string, args ...any) {
	v.r.Findings = append(v.r.Findings, BackupFinding{Backup: backup, Error: isErr, Text: fmt.Sprintf(format, args...)})
}

func (v *verifier) backup(dir string) {
	m, err := ReadBackupManifest(dir)
	if err != nil {
		v.add(dir, true, "Manifest nicht lesbar: %v", err)
		return
	}
	if m.Format > BackupFormat {
		v.add(dir, true, "Sicherungsformat %d ist neuer als dieses Programm (%d)", m.Format, BackupFormat)
		return
	}
	if m.Schema > SchemaVersion {
		v.add(dir, true, "Datenbankschema %d ist neuer als dieses Programm (%d): zum Wiederherstellen eine neuere Version verwenden", m.Schema, SchemaVersion)
	}
	listed := map[string]bool{}
	dbOK := false
	for _, f := range m.Files {
		if !cleanRel(f.Path) {
			v.add(dir, true, "Manifest nennt einen unzulässigen Pfad %q", f.Path)
			continue
		}
		listed[f.Path] = true
		ok := v.file(dir, f)
		if f.Path == backupDBName {
			dbOK = ok
		}
	}
	v.extraFiles(dir, listed)
	switch {
	case !listed[backupDBName]:
		v.add(dir, true, "Manifest nennt keine Datenbank %s", backupDBName)
	case !dbOK:
		// bbolt stops the process on some damaged pages (a panic in its
		// own goroutine): only a copy that is byte for byte the snapshot
		// is opened.
		v.add(dir, true, "Datenbank nicht geprüft, weil sie nicht der gesicherten entspricht")
	default:
		v.database(dir, m, listed)
	}
}

// cleanRel accepts only a relative, clean path inside the backup.
func cleanRel(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && path.Clean(p) == p && !strings.HasPrefix(p, "../") && p != ".."
}

// file checks one file and reports whether it is intact.
func (v *verifier) file(dir string, f BackupFile) bool {
	full := filepath.Join(dir, filepath.FromSlash(f.Path))
	fi, err := os.Lstat(full)
	if errors.Is(err, fs.ErrNotExist) {
		v.add(dir, true, "%s fehlt", f.Path)
		return false
	}
	if err != nil {
		v.add(dir, true, "%s: %v", f.Path, err)
		return false
	}
	if !fi.Mode().IsRegular() {
		v.add(dir, true, "%s ist keine gewöhnliche Datei", f.Path)
		return false
	}
	if fi.Size() != f.Size {
		v.add(dir, true, "%s hat %d Bytes, laut Manifest %d: beschädigt", f.Path, fi.Size(), f.Size)
		return false
	}
	if h, ok := blobPathHash(f.Path); ok && h != f.SHA256 {
		v.add(dir, true, "%s: Prüfsumme im Manifest passt nicht zum Namen", f.Path)
		return false
	}
	var id fileID
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id = fileID{uint64(st.Dev), uint64(st.Ino)}
	}
	sum, ok := v.sums[id]
	if !ok || id == (fileID{}) {
		if sum, err = v.hash(full); err != nil {
			v.add(dir, true, "%s nicht lesbar: %v", f.Path, err)
			return false
		}
		v.sums[id] = sum
		v.r.Bytes += f.Size
	}
	v.r.Files++
	if sum != f.SHA256 {
		v.add(dir, true, "%s: Prüfsumme stimmt nicht (beschädigt)", f.Path)
		return false
	}
	return true
}

func (v *verifier) hash(p string) (string, error) {
	if v.buf == nil {
		v.buf = make([]byte, 1<<20)
	}
	sum, _, err := hashFile(p, v.buf)
	return sum, err
}

// extraFiles warns about files the manifest does not name.
func (v *verifier) extraFiles(dir string, listed map[string]bool) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel != backupManifestName && !listed[rel] {
			v.add(dir, false, "%s steht nicht im Manifest (wird nicht wiederhergestellt)", rel)
		}
		return nil
	})
}

// database opens the copy read-only, runs bbolt's check and compares the
// referenced blobs with the files present.
func (v *verifier) database(dir string, m *BackupManifest, listed map[string]bool) {
	db, err := bolt.Open(filepath.Join(dir, backupDBName), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		v.add(dir, true, "Datenbank lässt sich nicht öffnen: %v", err)
		return
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		n := 0
		for err := range tx.Check() {
			if n < 20 {
				v.add(dir, true, "Datenbank beschädigt (bbolt check): %v", err)
			}
			n++
		}
		if n > 20 {
			v.add(dir, true, "… und %d weitere Fehler der Datenbank", n-20)
		}
		meta := tx.Bucket(bucketMeta)
		refs := tx.Bucket(bucketBlobRefs)
		if meta == nil || refs == nil {
			v.add(dir, true, "Datenbank ist keine Schulhof-Datenbank (Buckets meta/blobrefs fehlen)")
			return nil
		}
		if raw := meta.Get([]byte("schema")); len(raw) != 8 || binary.BigEndian.Uint64(raw) != m.Schema {
			v.add(dir, true, "Schema der Datenbank passt nicht zum Manifest (%d)", m.Schema)
		}
		inline := tx.Bucket(bucketFileInline)
		missing := 0
		refs.ForEach(func(k, _ []byte) error {
			if inline != nil && inline.Get(k) != nil {
				return nil
			}
			h := string(k)
			if !validHash(h) {
				return nil
			}
			rel := "blobs/" + h[:2] + "/" + h[2:]
			if !listed[rel] {
				if missing < 20 {
					v.add(dir, true, "Blob %s wird von der Datenbank gebraucht, fehlt aber in der Sicherung", h)
				}
				missing++
			}
			return nil
		})
		if missing > 20 {
			v.add(dir, true, "… und %d weitere fehlende Blobs", missing-20)
		}
		return nil
	})
	if err != nil {
		v.add(dir, true, "Datenbank nicht lesbar: %v", err)
	}
}
