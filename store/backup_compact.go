package store

// A backup's database is a compacted copy: every bucket, key, value and
// bucket sequence the read transaction sees, written into a new bbolt
// file. A page copy (Tx.WriteTo) would also carry the pages bbolt has
// freed but not yet reused, and with them values erased before the backup
// (small inline mails and files, names, subjects): backups would keep
// erased data past keep_days. The copy is read from the one transaction
// that also lists the blobs, so it is the same consistent snapshot.

import bolt "go.etcd.io/bbolt"

// compactTxBytes bounds one write transaction of the copy (bbolt keeps
// a transaction's dirty pages in memory).
const compactTxBytes = 32 << 20

// writeCompact writes the live content of tx into a new database at path
// and returns its manifest entry. sync: fsync it (else syncTree does).
func writeCompact(tx *bolt.Tx, path string, sync bool) (BackupFile, error) {
	dst, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return BackupFile{}, err
	}
	w := &compactWriter{db: dst}
	err = w.begin()
	if err == nil {
		err = tx.ForEach(func(name []byte, b *bolt.Bucket) error { return w.copyBucket([][]byte{name}, b) })
	}
	if err == nil {
		// The last commit writes the freelist, so opening the copy (a
		// restore) reads it instead of walking every page (freelist.go).
		dst.NoFreelistSync = false
		err = w.tx.Commit()
		w.tx = nil
	}
	if w.tx != nil {
		w.tx.Rollback()
	}
	if err == nil && sync {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return BackupFile{}, err
	}
	return manifestEntry(path, backupDBName)
}

type compactWriter struct {
	db    *bolt.DB
	tx    *bolt.Tx
	bytes int
}

func (w *compactWriter) begin() error {
	tx, err := w.db.Begin(true)
	w.tx, w.bytes = tx, 0
	return err
}

// open returns the bucket at path in the current transaction, creating it.
func (w *compactWriter) open(path [][]byte) (*bolt.Bucket, error) {
	b, err := w.tx.CreateBucketIfNotExists(path[0])
	for _, name := range path[1:] {
		if err != nil {
			break
		}
		b, err = b.CreateBucketIfNotExists(name)
	}
	if err != nil {
		return nil, err
	}
	b.FillPercent = 1.0 // keys arrive in order: full pages
	return b, nil
}

// copyBucket copies src (at path) with its nested buckets. Keys and
// values stay valid while the source transaction is open; the copy's
// transactions are committed every compactTxBytes.
func (w *compactWriter) copyBucket(path [][]byte, src *bolt.Bucket) error {
	dst, err := w.open(path)
	if err != nil {
		return err
	}
	if err := dst.SetSequence(src.Sequence()); err != nil {
		return err
	}
	c := src.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil { // a nested bucket
			if err := w.copyBucket(append(path[:len(path):len(path)], k), src.Bucket(k)); err != nil {
				return err
			}
			if dst, err = w.open(path); err != nil {
				return err
			}
			continue
		}
		if w.bytes > compactTxBytes {
			if err := w.tx.Commit(); err != nil {
				w.tx = nil
				return err
			}
			if err := w.begin(); err != nil {
				return err
			}
			if dst, err = w.open(path); err != nil {
				return err
			}
		}
		if err := dst.Put(k, v); err != nil {
			return err
		}
		w.bytes += len(k) + len(v)
	}
	return nil
}

// manifestEntry returns the manifest entry of a file written into a backup.
func manifestEntry(path, rel string) (BackupFile, error) {
	sum, n, err := hashFile(path, nil)
	if err != nil {
		return BackupFile{}, err
	}
	return BackupFile{Path: rel, Size: n, SHA256: sum}, nil
}
