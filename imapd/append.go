package imapd

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/emersion/go-imap/v2"

	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// APPEND. A literal that fits inline is read into memory and stored in the
// database by the appending commit (as SMTP does); a larger one is streamed
// into a blob file (never held in memory). Either is summarised, then
// stored.
func (s *session) Append(name string, r imap.LiteralReader, opts *imap.AppendOptions) (*imap.AppendData, error) {
	name = mailboxName(name)
	if _, err := s.st().MailboxByName(s.account, name); err != nil {
		e := storeErr(err)
		if ie, ok := e.(*imap.Error); ok && ie.Code == imap.ResponseCodeNonExistent {
			ie.Code = imap.ResponseCodeTryCreate
		}
		return nil, e
	}
	limit := s.limit()
	if d := s.srv.opt.Policy.CheckTransfer(r.Size(), exceptionsOf(s), time.Now()); !d.Allow {
		return nil, s.refuse(d)
	}
	pb, err := s.st().WriteContent(r, limit)
	if errors.Is(err, store.ErrTooLarge) {
		return nil, s.refuse(s.srv.opt.Policy.CheckTransfer(limit+1, exceptionsOf(s), time.Now()))
	} else if err != nil {
		return nil, err
	}
	defer pb.Release()
	meta, dec, err := summarizeBounded(s.st(), pb, s.srv.opt.Policy)
	if err != nil {
		return nil, err
	} else if !dec.Allow {
		return nil, s.refuse(dec) // LIMIT-MIME
	}
	d, err := s.st().Append(s.account, name, store.NewMessage{
		Blob: pb, Meta: meta, Flags: storeFlags(opts.Flags), Internal: opts.Time,
	}, s.tracker)
	if err != nil {
		return nil, s.storeErr(err)
	}
	s.catchUp(d.Mailbox)
	return &imap.AppendData{UID: imap.UID(d.UID), UIDValidity: d.UIDValidity}, nil
}

func exceptionsOf(s *session) []policy.SizeException {
	var ex []policy.SizeException
	if xs, err := s.st().Exceptions(s.account); err == nil {
		for _, x := range xs {
			ex = append(ex, policy.SizeException{Bytes: x.Bytes, Until: x.Until})
		}
	}
	return ex
}

// Summarize parses a stored blob once and returns the bytes the store
// keeps with it (for tools that store messages themselves).
func Summarize(st *store.Store, hash string) ([]byte, error) {
	f, err := st.OpenContent(hash)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum, err := mailmsg.Parse(f)
	if err != nil {
		return nil, err
	}
	return mailmsg.Marshal(sum)
}

// summarizeBounded is Summarize within the policy's MIME bounds
// (mime_parts, mime_depth): a message over them is refused (LIMIT-MIME),
// as at SMTP DATA.
func summarizeBounded(st *store.Store, pb *store.PendingBlob, eng *policy.Engine) ([]byte, policy.Decision, error) {
	var f io.Reader = bytes.NewReader(pb.Data) // inline: not stored yet
	if pb.Data == nil {
		rc, err := st.OpenContent(pb.Hash)
		if err != nil {
			return nil, policy.Decision{}, err
		}
		defer rc.Close()
		f = rc
	}
	sum, err := mailmsg.ParseLimited(f, mailmsg.PolicyLimits(eng))
	if d := mailmsg.Refusal(eng, err); !d.Allow {
		return nil, d, nil
	} else if err != nil {
		return nil, policy.Decision{}, err
	}
	meta, err := mailmsg.Marshal(sum)
	return meta, policy.Allowed, err
}
