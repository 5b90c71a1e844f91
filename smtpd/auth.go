package smtpd

import (
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"schulhof/internal/auth"
	"schulhof/internal/connlimit"
	"schulhof/policy"
)

// AuthMechanisms offers PLAIN and LOGIN (Outlook wants LOGIN) only on
// secure connections: TLS, or loopback like Dovecot.
func (s *session) AuthMechanisms() []string {
	if !s.secure() {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.secure() {
		return nil, errNeedTLS
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return smtp.ErrAuthFailed
			}
			return s.login(user, pass)
		}), nil
	case sasl.Login:
		return newLoginServer(s.login), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// login checks a password through the one authentication path.
func (s *session) login(user, pass string) error {
	a, d := s.srv.opt.Auth.Verify(s.ctx, auth.Attempt{
		Name: user, Password: pass, Protocol: "smtp", IP: s.remoteIP(),
		Service: policy.ServiceMail, Purpose: policy.PurposeUse,
	})
	if !d.Allow {
		return s.srv.authRefusal(d)
	}
	s.srv.mu.Lock() // closeSessions reads it from the lock watcher
	s.account = a
	s.srv.mu.Unlock()
	// A lock committed between Verify and the line above was missed by
	// the watcher.
	if cur, err := s.srv.opt.Store.Account(a.Name); err != nil || cur.Locked {
		s.srv.mu.Lock()
		s.account = nil
		s.srv.mu.Unlock()
		return s.srv.refusal(policy.Deny(policy.AccountLocked, "Das Konto ist gesperrt."))
	}
	connlimit.Authenticated(s.conn.Conn()) // no longer counts for LIMIT-CONN
	return nil
}

// loginServer is the server side of the obsolete but common SASL LOGIN
// mechanism (draft-murchison-sasl-login): the server asks "Username:" and
// "Password:", the client answers each; go-sasl has only the client.
type loginServer struct {
	check    func(user, pass string) error
	user     string
	step     int
	finished bool
}

func newLoginServer(check func(user, pass string) error) *loginServer {
	return &loginServer{check: check}
}

var errLoginDone = errors.New("sasl LOGIN: unexpected response")

func (l *loginServer) Next(resp []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(resp) == 0 { // no initial response: ask for the name
			return []byte("Username:"), false, nil
		}
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 1:
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, true, errLoginDone
}
