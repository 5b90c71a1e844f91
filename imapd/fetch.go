package imapd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/internal/mailmsg"
	"schulhof/store"
)

// loaded is one message read for FETCH or SEARCH.
type loaded struct {
	item
	msg  store.Message
	meta *mailmsg.Summary
	hdr  hdrHits // SEARCH: header fields matched while loading
}

// load reads the records of items in one snapshot. Messages expunged
// meanwhile by another session are left out.
func (s *session) load(items []item, withMeta bool) ([]loaded, error) {
	out := make([]loaded, 0, len(items))
	err := s.st().View(func(t *store.Tx) error {
		// items come in UID order (resolve walks the view's UIDs).
		uids := make([]uint32, len(items))
		for i, it := range items {
			uids[i] = it.uid
		}
		i := 0
		return t.MessagesOf(s.view.id, uids, func(m *store.Message) error {
			for items[i].uid != m.UID {
				i++
			}
			l := loaded{item: items[i], msg: *m}
			if withMeta {
				l.meta = decodeMeta(t.MessageMeta(m.Blob))
			}
			out = append(out, l)
			return nil
		})
	})
	if hook := afterLoad.Load(); hook != nil {
		(*hook)()
	}
	return out, err
}

// afterLoad, when set by a test, runs between a command's lookup of its
// messages and its reading of their content.
var afterLoad atomic.Pointer[func()]

func decodeMeta(raw []byte) *mailmsg.Summary {
	var sum mailmsg.Summary
	if raw == nil || json.Unmarshal(raw, &sum) != nil || sum.Body == nil {
		return &mailmsg.Summary{Body: &mailmsg.Part{Type: "text", Subtype: "plain"}}
	}
	return &sum
}

func needsMeta(o *imap.FetchOptions) bool { return o.Envelope || o.BodyStructure != nil }

// FETCH. Sections other than the whole message are cut from the blob by
// the library's section extractor; BODY[] streams the blob.
func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, opts *imap.FetchOptions) error {
	items := s.resolve(numSet)
	markSeen := false
	if !s.readOnly {
		for _, bs := range opts.BodySection {
			if !bs.Peek {
				markSeen = true
			}
		}
		for _, bs := range opts.BinarySection {
			if !bs.Peek {
				markSeen = true
			}
		}
	}
	if markSeen && len(opts.BinarySection)+len(opts.BinarySectionSize) > 0 {
		// A refused BINARY (UNKNOWN-CTE) marks nothing \Seen.
		if err := s.checkDecodableAll(items, opts); err != nil {
			return err
		}
	}
	if markSeen {
		// Other sessions hear of it through the feed; this one answers
		// with FLAGS in the FETCH response below (RFC 3501 6.4.5).
		if _, err := s.st().StoreFlags(s.view.id, uidsOf(items), store.FlagsAdd,
			[]string{string(imap.FlagSeen)}, s.tracker); err != nil {
			return err
		}
	}
	var msgs []loaded
	var err error
	if flagsOnlyFetch(opts) {
		msgs, err = s.loadFlags(items)
	} else {
		msgs, err = s.load(items, needsMeta(opts))
	}
	if err != nil {
		return err
	}
	if opts.Vanished {
		if err := s.writeVanished(w, numSet, opts.ChangedSince); err != nil {
			return err
		}
	}
	msgs = changedSince(msgs, opts.ChangedSince)
	withModSeq := opts.ModSeq || s.condStore() && (opts.Flags || markSeen)
	if opts.Flags || markSeen {
		if err := s.announceLoaded(w, msgs); err != nil {
			return err
		}
	}
	fw := fetchFlags{rev1: s.rev1()}
	for i := range msgs {
		if msgs[i].seq == 0 {
			continue // not announced to this client yet
		}
		if err := s.fetchOne(w, &msgs[i], opts, markSeen, withModSeq, &fw); err != nil {
			return err
		}
	}
	return nil
}

// flagsOnlyFetch reports whether a FETCH asks for nothing but UID, FLAGS
// and MODSEQ (a client's resync): then records are not fully decoded.
func flagsOnlyFetch(o *imap.FetchOptions) bool {
	return !o.Envelope && o.BodyStructure == nil && !o.RFC822Size && !o.InternalDate &&
		len(o.BodySection) == 0 && len(o.BinarySection) == 0 && len(o.BinarySectionSize) == 0
}

// fetchFlags is what one FETCH command's responses share: whether
// \Recent is shown (asked once, not per message) and the buffer each
// FLAGS list is built in (written before the next one).
type fetchFlags struct {
	rev1 bool
	buf  []imap.Flag
}

func (f *fetchFlags) of(s *session, l *loaded) []imap.Flag {
	f.buf = f.buf[:0]
	for _, fl := range l.msg.Flags {
		f.buf = append(f.buf, imap.Flag(fl))
	}
	if f.rev1 && s.recent.has(l.msg.UID) {
		f.buf = append(f.buf, flagRecent)
	}
	return f.buf
}

func (s *session) fetchOne(w *imapserver.FetchWriter, l *loaded, opts *imap.FetchOptions, withFlags, withModSeq bool, fw *fetchFlags) error {
	// The content is opened before the response starts, so a message
	// expunged meanwhile by another session can still be left out (its
	// EXPUNGE follows with this command's updates).
	var rc io.ReadSeekCloser
	if len(opts.BodySection) > 0 || len(opts.BinarySection) > 0 || len(opts.BinarySectionSize) > 0 {
		var err error
		rc, err = s.st().OpenMessage(s.view.id, l.msg.UID, l.msg.Blob)
		if errors.Is(err, store.ErrMessageGone) {
			return nil
		} else if err != nil {
			s.log.Error("imap fetch: message content unreadable", "account", s.account, "uid", l.msg.UID, "err", err)
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeServerBug,
				Text: "Der Inhalt der Nachricht kann nicht gelesen werden."}
		}
		defer rc.Close()
		if err := checkDecodable(rc.(sectionReader), opts); err != nil {
			return err
		}
	}
	rw := w.CreateMessage(l.seq)
	if opts.UID {
		rw.WriteUID(imap.UID(l.msg.UID))
	}
	if opts.Flags || withFlags {
		rw.WriteFlags(fw.of(s, l))
	}
	if withModSeq {
		rw.WriteModSeq(l.msg.ModSeq)
	}
	if opts.RFC822Size {
		rw.WriteRFC822Size(l.msg.Size)
	}
	if opts.InternalDate {
		rw.WriteInternalDate(l.msg.Internal)
	}
	if opts.Envelope {
		rw.WriteEnvelope(toEnvelope(&l.meta.Envelope))
	}
	if opts.BodyStructure != nil {
		rw.WriteBodyStructure(toBodyStructure(l.meta.Body))
	}
	if rc != nil {
		f := rc.(sectionReader) // a blob file or inline content (bytes)
		for _, sec := range opts.BodySection {
			if err := writeSection(rw, f, l.msg.Size, sec); err != nil {
				rw.Close()
				return err
			}
		}
		for _, sec := range opts.BinarySection {
			if len(sec.Part) > 0 {
				err := writeBinaryStreamed(func(n int64) io.WriteCloser { return rw.WriteBinarySection(sec, n) }, f, sec)
				if err != nil {
					rw.Close()
					return err
				}
				continue
			}
			f.Seek(0, io.SeekStart)
			b := imapserver.ExtractBinarySection(f, sec)
			wc := rw.WriteBinarySection(sec, int64(len(b)))
			wc.Write(b)
			if err := wc.Close(); err != nil {
				rw.Close()
				return err
			}
		}
		for _, sec := range opts.BinarySectionSize {
			if len(sec.Part) > 0 {
				rw.WriteBinarySectionSize(sec, uint32(min(binarySize(f, sec.Part), 0xffffffff)))
				continue
			}
			f.Seek(0, io.SeekStart)
			rw.WriteBinarySectionSize(sec, imapserver.ExtractBinarySectionSize(f, sec))
		}
	}
	return rw.Close()
}

// checkDecodableAll is checkDecodable for every message of a FETCH, run
// before the FETCH sets \Seen (a message gone meanwhile is skipped, as
// fetchOne skips it).
func (s *session) checkDecodableAll(items []item, opts *imap.FetchOptions) error {
	uids := make([]uint32, 0, len(items))
	for _, it := range items {
		if it.seq != 0 { // not yet announced: fetchOne skips it too
			uids = append(uids, it.uid)
		}
	}
	var msgs []store.Message
	if err := s.st().View(func(t *store.Tx) error {
		return t.MessagesOf(s.view.id, uids, func(m *store.Message) error {
			msgs = append(msgs, *m)
			return nil
		})
	}); err != nil {
		return err
	}
	for _, m := range msgs {
		rc, err := s.st().OpenMessage(s.view.id, m.UID, m.Blob)
		if err != nil {
			continue // gone, or unreadable: fetchOne answers for it
		}
		err = checkDecodable(rc.(sectionReader), opts)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// checkDecodable refuses BINARY and BINARY.SIZE of a part whose transfer
// encoding the server does not know, before the message's response
// starts (RFC 3516 §4.2).
func checkDecodable(f io.ReadSeeker, opts *imap.FetchOptions) error {
	paths := make([][]int, 0, len(opts.BinarySection)+len(opts.BinarySectionSize))
	for _, sec := range opts.BinarySection {
		paths = append(paths, sec.Part)
	}
	for _, sec := range opts.BinarySectionSize {
		paths = append(paths, sec.Part)
	}
	for _, p := range paths {
		if !decodable(f, p) {
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnknownCTE,
				Text: "Die Transferkodierung dieses Teils kann der Server nicht entschlüsseln; BODY[] liefert ihn unverändert."}
		}
	}
	return nil
}

// writeSection writes one BODY[section]<partial>. The whole message is
// streamed from the blob; parts go through the library's extractor.
// sectionReader is what OpenContent returns: a blob file or inline bytes.
type sectionReader interface {
	io.ReadSeeker
	io.ReaderAt
}

func writeSection(rw *imapserver.FetchResponseWriter, f sectionReader, size int64, sec *imap.FetchItemBodySection) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if sec.Specifier == imap.PartSpecifierNone && len(sec.Part) == 0 {
		off, n := int64(0), size
		if p := sec.Partial; p != nil {
			off = min(p.Offset, size)
			n = min(p.Size, size-off)
		}
		wc := rw.WriteBodySection(sec, n)
		if _, err := io.Copy(wc, io.NewSectionReader(f, off, n)); err != nil {
			wc.Close()
			return err
		}
		return wc.Close()
	}
	if sec.Specifier == imap.PartSpecifierNone && len(sec.HeaderFields) == 0 && len(sec.HeaderFieldsNot) == 0 {
		streamed, err := writePartStreamed(func(n int64) io.WriteCloser { return rw.WriteBodySection(sec, n) }, f, sec)
		if streamed || err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	b := imapserver.ExtractBodySection(f, sec)
	if len(sec.Part) > 0 && bytes.IndexByte(b, 0) >= 0 {
		b = nulFree(b)
	}
	wc := rw.WriteBodySection(sec, int64(len(b)))
	if _, err := wc.Write(b); err != nil {
		wc.Close()
		return err
	}
	return wc.Close()
}

// nulFree base64-encodes part content holding NUL, which no IMAP literal
// may carry (RFC 3501 §4.3; a part APPENDed with binary transfer encoding,
// RFC 3516): BODY[n] gives it base64, BINARY[n] the raw bytes.
func nulFree(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(enc) > 76 {
		out.WriteString(enc[:76])
		out.WriteString("\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc)
	out.WriteString("\r\n")
	return out.Bytes()
}
