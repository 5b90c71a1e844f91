package imapd

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// BODY[n] streams the part from the blob instead of holding it in memory
// (a 20 MB attachment fetched by ten clients is not 200 MB of RAM): one
// pass counts the octets for the literal's length, a second one copies
// them. The part numbering follows RFC 3501 §6.4.5 as the library's
// extractor does: part 1 of a non-multipart message is its body, the
// parts of a message/rfc822 part are those of the enclosed message.

// openPart returns a reader of the body of part path (nil: no such part).
func openPart(r io.Reader, path []int) io.Reader {
	_, body := openPartHeader(r, path)
	return body
}

// openPartHeader is openPart with the part's MIME header.
func openPartHeader(r io.Reader, path []int) (textproto.Header, io.Reader) {
	br := bufio.NewReader(r)
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return h, nil
	}
	var body io.Reader = br
	if !isMultipart(h) && len(path) > 0 && path[0] == 1 {
		path = path[1:]
	}
	parent := ""
	for _, n := range path {
		h, body = enterMessage(h, body, parent)
		if !isMultipart(h) {
			if n != 1 {
				return h, nil
			}
			continue
		}
		mt, params := contentType(h)
		mr := textproto.NewMultipartReader(body, params["boundary"])
		var p *textproto.Part
		for j := 1; j <= n; j++ {
			if p, err = mr.NextPart(); err != nil {
				return h, nil
			}
		}
		parent, h, body = mt, p.Header, p
	}
	return h, body
}

// enterMessage steps into an enclosed message (message/rfc822, or a part
// without Content-Type in multipart/digest).
func enterMessage(h textproto.Header, body io.Reader, parent string) (textproto.Header, io.Reader) {
	mt, _ := contentType(h)
	if !h.Has("Content-Type") && parent == "multipart/digest" {
		mt = "message/rfc822"
	}
	if mt == "message/rfc822" || mt == "message/global" {
		br := bufio.NewReader(body)
		inner, _ := textproto.ReadHeader(br)
		return inner, br
	}
	return h, body
}

func contentType(h textproto.Header) (string, map[string]string) {
	mh := gomessage.Header{Header: h}
	mt, params, _ := mh.ContentType()
	return mt, params
}

func isMultipart(h textproto.Header) bool {
	mt, _ := contentType(h)
	return strings.HasPrefix(mt, "multipart/")
}

// partSpan measures part path: its length in octets and whether it holds
// a NUL (then it cannot be streamed as it is).
func partSpan(f io.ReadSeeker, path []int) (n int64, nul, ok bool) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, false, false
	}
	body := openPart(f, path)
	if body == nil {
		return 0, false, false
	}
	buf := make([]byte, 32<<10)
	for {
		k, err := body.Read(buf)
		if bytes.IndexByte(buf[:k], 0) >= 0 {
			nul = true
		}
		n += int64(k)
		if err != nil {
			return n, nul, true
		}
	}
}

// writePartStreamed writes BODY[path]<partial> by streaming; it reports
// false when the part must go the buffered way (NUL inside).
func writePartStreamed(w func(size int64) io.WriteCloser, f io.ReadSeeker, sec *imap.FetchItemBodySection) (bool, error) {
	total, nul, ok := partSpan(f, sec.Part)
	if nul {
		return false, nil
	}
	off, n := int64(0), total
	if p := sec.Partial; p != nil {
		off = min(p.Offset, total)
		n = min(p.Size, total-off)
	}
	wc := w(n)
	if !ok || n == 0 {
		return true, wc.Close()
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		wc.Close()
		return true, err
	}
	body := openPart(f, sec.Part)
	if body == nil {
		wc.Close()
		return true, io.ErrUnexpectedEOF
	}
	if _, err := io.CopyN(io.Discard, body, off); err != nil {
		wc.Close()
		return true, err
	}
	if _, err := io.CopyN(wc, body, n); err != nil {
		wc.Close()
		return true, err
	}
	return true, wc.Close()
}

// BINARY[n] (RFC 3516) streams the decoded part the same way.

// openDecoded returns the part's content with its transfer encoding
// undone (nil: no such part or an encoding that cannot be undone).
func openDecoded(f io.ReadSeeker, path []int) io.Reader {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	h, body := openPartHeader(f, path)
	if body == nil {
		return nil
	}
	e, err := gomessage.New(gomessage.Header{Header: h}, body)
	if err != nil && e == nil {
		return nil
	}
	return e.Body
}

// decodable reports whether the transfer encoding of part path is one the
// server can undo (go-message's set, the one openDecoded uses). A part
// that does not exist or a multipart (never encoded) counts as decodable;
// RFC 3516 §4.2 wants NO [UNKNOWN-CTE] for the others.
func decodable(f io.ReadSeeker, path []int) bool {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return true
	}
	h, body := openPartHeader(f, path)
	if body == nil || isMultipart(h) {
		return true
	}
	_, err := gomessage.New(gomessage.Header{Header: h}, strings.NewReader(""))
	return !gomessage.IsUnknownEncoding(err)
}

// binarySize is BINARY.SIZE[path]: the decoded octets (0: no such part).
func binarySize(f io.ReadSeeker, path []int) int64 {
	r := openDecoded(f, path)
	if r == nil {
		return 0
	}
	n, _ := io.Copy(io.Discard, r)
	return n
}

// writeBinaryStreamed writes BINARY[path]<partial>.
func writeBinaryStreamed(w func(size int64) io.WriteCloser, f io.ReadSeeker, sec *imap.FetchItemBinarySection) error {
	total := binarySize(f, sec.Part)
	off, n := int64(0), total
	if p := sec.Partial; p != nil {
		off = min(p.Offset, total)
		n = min(p.Size, total-off)
	}
	wc := w(n)
	if n == 0 {
		return wc.Close()
	}
	r := openDecoded(f, sec.Part)
	if r == nil {
		wc.Close()
		return io.ErrUnexpectedEOF
	}
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		wc.Close()
		return err
	}
	if _, err := io.CopyN(wc, r, n); err != nil {
		wc.Close()
		return err
	}
	return wc.Close()
}
