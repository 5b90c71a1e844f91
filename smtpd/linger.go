package smtpd

import (
	"io"
	"time"

	"github.com/emersion/go-smtp"

	"schulhof/policy"
)

// answerAndClose answers a DATA whose input can no longer be read (go-smtp
// stops reading a connection for good at an over-long line) and ends the
// connection so that the client sees the answer: closing at once, with
// the rest of its message unread, would reset the connection and discard
// the answer before the client reads it, and clients treat a lost
// connection as temporary and retry forever. So: answer, close our side,
// read and drop what the client still sends (at most its size limit, for
// at most the command timeout), then close.
func (s *session) answerAndClose(e *smtp.SMTPError, limit int64) error {
	nc := s.conn.Conn()
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, sprintf("%d %d.%d.%d %s\r\n", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2], e.Message)); err == nil {
		if cw, ok := nc.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		nc.SetReadDeadline(time.Now().Add(time.Duration(s.srv.opt.Policy.Bound(policy.HeaderTimeoutSeconds)) * time.Second))
		io.CopyN(io.Discard, nc, limit)
	}
	nc.Close()
	return e // go-smtp's own copy of the answer finds the connection closed
}
