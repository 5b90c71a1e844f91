package imapd

import (
	"strings"

	"github.com/emersion/go-imap/v2"

	"schulhof/internal/mailmsg"
)

// Conversions from the stored summary to go-imap's types.

func toAddrs(in []mailmsg.Address) []imap.Address {
	if len(in) == 0 {
		return nil
	}
	out := make([]imap.Address, len(in))
	for i, a := range in {
		out[i] = imap.Address{Name: a.Name, Route: a.Route, Mailbox: a.Mailbox, Host: a.Host}
	}
	return out
}

func toEnvelope(e *mailmsg.Envelope) *imap.Envelope {
	return &imap.Envelope{
		Date: e.Date, Subject: e.Subject,
		From: toAddrs(e.From), Sender: toAddrs(e.Sender), ReplyTo: toAddrs(e.ReplyTo),
		To: toAddrs(e.To), Cc: toAddrs(e.Cc), Bcc: toAddrs(e.Bcc),
		InReplyTo: e.InReplyTo, MessageID: e.MessageID,
	}
}

func toDisposition(p *mailmsg.Part) *imap.BodyStructureDisposition {
	if p.Disposition == "" {
		return nil
	}
	return &imap.BodyStructureDisposition{Value: p.Disposition, Params: p.DispParams}
}

func toBodyStructure(p *mailmsg.Part) imap.BodyStructure {
	if p.Multipart() {
		bs := &imap.BodyStructureMultiPart{Subtype: p.Subtype,
			Extended: &imap.BodyStructureMultiPartExt{Params: p.Params, Disposition: toDisposition(p),
				Language: p.Language, Location: p.Location}}
		for _, c := range p.Children {
			bs.Children = append(bs.Children, toBodyStructure(c))
		}
		return bs
	}
	size := p.Size
	if size > 0xffffffff {
		size = 0xffffffff
	}
	enc := strings.ToUpper(p.Encoding)
	if enc == "" {
		enc = "7BIT"
	}
	bs := &imap.BodyStructureSinglePart{
		Type: p.Type, Subtype: p.Subtype, Params: p.Params, ID: p.ID,
		Description: p.Description, Encoding: enc, Size: uint32(size),
		Extended: &imap.BodyStructureSinglePartExt{Disposition: toDisposition(p), Language: p.Language, Location: p.Location},
	}
	if p.Type == "text" {
		bs.Text = &imap.BodyStructureText{NumLines: p.Lines}
	}
	if p.Message != nil && p.Envelope != nil {
		bs.MessageRFC822 = &imap.BodyStructureMessageRFC822{Envelope: toEnvelope(p.Envelope),
			BodyStructure: toBodyStructure(p.Message), NumLines: p.Lines}
	}
	return bs
}
