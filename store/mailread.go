package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// ErrMessageGone: the message was expunged (by another session) after the
// caller looked it up, and its content with it.
var ErrMessageGone = fmt.Errorf("%w: message expunged meanwhile", ErrNotFound)

// OpenMessage opens the content of message uid of mailbox mbox, whose
// record (read in an earlier snapshot) names blob hash. An EXPUNGE
// committed since then removes the blob file once its last reference is
// gone; a file already open stays readable, so the caller gets either the
// content or ErrMessageGone, never a missing-file error for a message that
// simply went away.
func (s *Store) OpenMessage(mbox uint64, uid uint32, hash string) (io.ReadSeekCloser, error) {
	f, err := s.OpenContent(hash) // a blob file or inline content
	if err == nil || !(errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist)) {
		return f, err
	}
	gone := false
	if verr := s.view(func(t *Tx) error {
		_, err := t.Message(mbox, uid)
		gone = errors.Is(err, ErrNotFound)
		return nil
	}); verr != nil {
		return nil, verr
	}
	if gone {
		return nil, ErrMessageGone
	}
	return nil, err // the message is there and its blob is not: damage
}
