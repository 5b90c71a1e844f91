package store

// Small messages are kept inline like small file contents (inline.go):
// smtpd writes them with WriteContent, and the delivering transaction puts
// the content into fileinline when no blob of that hash exists yet, so one
// shared bbolt commit makes a delivery durable with no blob file, no file
// fsync and no folder fsync. Readers open messages with OpenContent.

// addMailInline stores a pending blob's in-memory content inline unless
// content of that hash is already stored (inline or as a file).
func (t *Tx) addMailInline(pb *PendingBlob) error {
	if pb.Data == nil || t.bucket(bucketBlobRefs).Get([]byte(pb.Hash)) != nil {
		return nil
	}
	return t.putInline(pb.Hash, pb.Data)
}
