package smtpd

import (
	"context"
	"log/slog"

	"github.com/emersion/go-smtp"

	"schulhof/internal/auth"
	"schulhof/internal/logid"
	"schulhof/policy"
	"schulhof/store"
)

// session is one SMTP connection. The envelope (from, recipients) is
// reset after every message.
type session struct {
	srv     *Server
	conn    *smtp.Conn
	log     *slog.Logger    // the server's, with this session's ID
	ctx     context.Context // carries the ID to auth.Verify's log line
	account *store.Account

	from       string
	size       int64           // SIZE= of MAIL FROM, 0 if not given
	slot       *store.SendSlot // MAIL-MASS reservation of this message
	rcptCount  int             // addresses accepted (a group counts once)
	recipients map[string]bool // expanded account names → named directly (not only through a group)
	rcptAddrs  []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	id := logid.New()
	ss := &session{srv: s, conn: c, log: s.log.With(logid.Key, id), ctx: logid.With(context.Background(), id)}
	s.mu.Lock()
	s.conns[c] = ss
	s.mu.Unlock()
	return ss, nil
}

func (s *session) Reset() {
	s.releaseSlot()
	s.from, s.size, s.rcptCount, s.recipients, s.rcptAddrs = "", 0, 0, nil, nil
}

func (s *session) Logout() error {
	s.releaseSlot()
	s.srv.mu.Lock()
	delete(s.srv.conns, s.conn)
	s.srv.mu.Unlock()
	return nil
}

// secure reports whether passwords may be sent: TLS or loopback.
func (s *session) secure() bool { return auth.PlaintextAllowed(s.conn.Conn()) }

func (s *session) remoteIP() string { return auth.RemoteIP(s.conn.Conn()) }

// limits are the MAIL-MASS limits of the session's account.
func (s *session) limits() policy.MailLimits {
	if l, ok := s.srv.opt.Limits[policy.Role(s.account.Role)]; ok {
		return l
	}
	return s.srv.opt.Limits[policy.Student]
}

// sizeLimit is the account's SIZE-20MB limit now.
func (s *session) sizeLimit() int64 {
	return s.srv.opt.Policy.TransferLimit(s.exceptions(), s.srv.opt.Now())
}

func (s *session) exceptions() []policy.SizeException {
	var ex []policy.SizeException
	if xs, err := s.srv.opt.Store.Exceptions(s.account.Name); err == nil {
		for _, x := range xs {
			ex = append(ex, policy.SizeException{Bytes: x.Bytes, Until: x.Until})
		}
	}
	return ex
}
