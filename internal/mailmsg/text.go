package mailmsg

import (
	"bufio"
	"io"
	"mime"
	"strings"

	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // charsets beyond UTF-8 for text parts
	"github.com/emersion/go-message/textproto"
)

// maxText bounds how much decoded text one message yields for SEARCH.
const maxText = 4 << 20

var wordDecoder = &mime.WordDecoder{CharsetReader: gomessage.CharsetReader}

// Header reads a message's header with RFC 2047 words decoded, field by
// field ("Subject: Grüße").
func Header(r io.Reader) ([]string, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(r))
	if err != nil {
		return nil, err
	}
	var out []string
	for f := h.Fields(); f.Next(); {
		v, err := wordDecoder.DecodeHeader(f.Value())
		if err != nil {
			v = f.Value()
		}
		out = append(out, f.Key()+": "+v)
	}
	return out, nil
}

// BodyText returns the decoded text of a message's text/* parts (transfer
// encoding and charset undone), at most maxText bytes. Broken MIME yields
// whatever could be read.
func BodyText(r io.Reader) string {
	e, err := gomessage.Read(r)
	if e == nil {
		return ""
	}
	_ = err // unknown charset or encoding: the raw text is still searched
	var b strings.Builder
	collectText(e, &b, 0)
	return b.String()
}

func collectText(e *gomessage.Entity, b *strings.Builder, depth int) {
	if depth > maxDepth || b.Len() >= maxText {
		return
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if p == nil || err != nil {
				return
			}
			collectText(p, b, depth+1)
		}
	}
	t, _, _ := e.Header.ContentType()
	if t != "" && !strings.HasPrefix(t, "text/") {
		return
	}
	buf, _ := io.ReadAll(io.LimitReader(e.Body, int64(maxText-b.Len())))
	b.Write(buf)
	b.WriteByte('\n')
}
