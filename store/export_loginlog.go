package store

import (
	"bytes"
	"encoding/json"
)

// The login log's part of an export: every recorded attempt under the
// person's account name (successful or not), oldest first. The log is
// shared by everyone, so it is read in short transactions of
// exportChunk records, resuming after the last key.

func init() { registerExport("loginlog", exportLoginLog) }

func exportLoginLog(s *Store, account string, out ExportSink) error {
	list, err := newJSONList(out, "anmeldeprotokoll.json")
	if err != nil {
		return err
	}
	err = s.scanChunks(bucketLoginLog, nil, func(k, v []byte) error {
		var r LoginRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.Account != account {
			return nil
		}
		return list.add(r)
	})
	if err != nil {
		return err
	}
	return list.close()
}

// scanChunks calls fn for every key with prefix in bucket, in key order,
// reading exportChunk records per read transaction. fn runs outside the
// transaction (it may write to a slow sink); k and v are copies.
func (s *Store) scanChunks(bucket, prefix []byte, fn func(k, v []byte) error) error {
	type kv struct{ k, v []byte }
	after := prefix
	first := true
	for {
		var batch []kv
		err := s.view(func(t *Tx) error {
			c := t.bucket(bucket).Cursor()
			k, v := c.Seek(after)
			if !first && k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(batch) < exportChunk; k, v = c.Next() {
				batch = append(batch, kv{bytes.Clone(k), bytes.Clone(v)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		first = false
		for _, e := range batch {
			if err := fn(e.k, e.v); err != nil {
				return err
			}
		}
		if len(batch) < exportChunk {
			return nil
		}
		after = batch[len(batch)-1].k
	}
}
