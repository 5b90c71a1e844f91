package imapd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/internal/auth"
	"schulhof/internal/connlimit"
	"schulhof/policy"
	"schulhof/store"
)

var sprintf = fmt.Sprintf

// session is one IMAP connection.
type session struct {
	srv  *Server
	conn *imapserver.Conn
	log  *slog.Logger    // the server's, with this session's ID
	ctx  context.Context // carries the ID to auth.Verify's log line

	account     string
	appendLimit int64
	// pwHash is the account's password hash at login: a session ends when
	// the password changes (Server.accountChanged).
	pwHash string

	// selected state
	mbox     *store.Mailbox
	view     *mailboxView
	tracker  *imapserver.SessionTracker
	readOnly bool
	// searchRes is the last SEARCH result saved with RETURN (SAVE).
	searchRes imap.UIDSet
	recent    recentSet
	// kwSeen is the view's kwGen this client's FLAGS is known to cover.
	kwSeen uint64

	killOnce sync.Once
}

var (
	_ imapserver.SessionIMAP4rev2   = (*session)(nil)
	_ imapserver.SessionAppendLimit = (*session)(nil)
	_ imapserver.SessionID          = (*session)(nil)
)

func (s *session) st() *store.Store { return s.srv.opt.Store }

// Close is called by the library when the connection ends.
func (s *session) Close() error {
	defer s.srv.open.Done()
	s.unselect()
	if s.account != "" {
		s.srv.removeSession(s)
	}
	return nil
}

// Unauthenticate (UNAUTHENTICATE) returns to the not-authenticated state.
func (s *session) Unauthenticate() error {
	s.unselect()
	if s.account != "" {
		s.srv.removeSession(s)
	}
	s.account, s.appendLimit, s.pwHash = "", 0, ""
	return nil
}

// kill ends the session from outside (account locked).
func (s *session) kill(text string) {
	s.killOnce.Do(func() {
		nc := s.conn.NetConn()
		nc.SetWriteDeadline(time.Now().Add(killTimeout))
		s.conn.Bye(text)
		nc.Close()
	})
}

// secure reports whether passwords may be sent: TLS or loopback.
func (s *session) secure() bool { return auth.PlaintextAllowed(s.conn.NetConn()) }

func (s *session) remoteIP() string { return auth.RemoteIP(s.conn.NetConn()) }

// Login checks the password through the one authentication path.
// AUTHENTICATE PLAIN ends here too (the library's default).
func (s *session) Login(username, password string) error {
	if !s.secure() {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodePrivacyRequired,
			Text: "Anmeldung nur über TLS (STARTTLS oder Port 993)."}
	}
	a, d := s.srv.opt.Auth.Verify(s.ctx, auth.Attempt{
		Name: username, Password: password, Protocol: "imap", IP: s.remoteIP(),
		Service: policy.ServiceMail, Purpose: policy.PurposeUse,
	})
	if !d.Allow {
		return s.srv.refusal(d)
	}
	if err := s.st().EnsureMailboxes(a.Name); err != nil {
		return err
	}
	s.account, s.pwHash = a.Name, a.PasswordHash
	s.appendLimit = s.limit()
	s.srv.addSession(s)
	// A lock or password change committed between Verify and addSession
	// would be missed.
	if cur, err := s.st().Account(a.Name); err != nil || endsSession(cur, s.pwHash) != "" {
		s.srv.removeSession(s)
		s.account, s.pwHash = "", ""
		if err == nil && !cur.Locked {
			return s.srv.refusal(policy.Deny(policy.AuthFailed, "Das Passwort wurde soeben geändert; bitte erneut anmelden."))
		}
		return s.srv.refusal(policy.Deny(policy.AccountLocked, "Das Konto ist gesperrt."))
	}
	connlimit.Authenticated(s.conn.NetConn()) // no longer counts for LIMIT-CONN
	return nil
}

// limit is the account's SIZE-20MB limit now (exceptions included).
func (s *session) limit() int64 {
	return s.srv.opt.Policy.TransferLimit(exceptionsOf(s), time.Now())
}

// AppendLimit is advertised as APPENDLIMIT and enforced by the library
// before the literal is accepted.
func (s *session) AppendLimit() uint32 {
	l := s.appendLimit
	if l == 0 {
		l = s.srv.opt.Policy.MaxTransferBytes
	}
	if l > 0xffffffff {
		l = 0xffffffff
	}
	return uint32(l)
}

func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: store.MailboxDelim}}}, nil
}

func (s *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.tracker == nil {
		return nil
	}
	// A change another session committed before this poll (its STORE
	// answered OK) is reported now, not at a later poll: the view first
	// catches up with the store (one short read), whoever wrote.
	s.syncView()
	// Every FLAGS queued before this point goes out with this poll.
	s.view.mu.Lock()
	gen := s.view.kwGen
	s.view.mu.Unlock()
	if err := s.tracker.Poll(w, allowExpunge); err != nil {
		return err
	}
	// Without expunges allowed (FETCH, STORE, SEARCH) the poll stops at
	// the first queued expunge, and a FLAGS queued behind it stays queued:
	// then this client has not been told yet, and announceKeywords tells
	// it before a FETCH shows the keyword (imaptest's stress mode found
	// "Keyword used without being in FLAGS").
	if allowExpunge {
		s.kwSeen = max(s.kwSeen, gen)
	}
	return s.reportRecent(w.WriteNumRecent)
}

func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if s.tracker == nil {
		<-stop
		return nil
	}
	// The library's SessionTracker.Idle, plus RECENT after EXISTS: the
	// view signals every change it queued for the tracker.
	for {
		s.view.mu.Lock()
		changed := s.view.changed
		s.view.mu.Unlock()
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-changed:
		case <-stop:
			return nil
		}
	}
}

// catchUp waits until the open view of mailbox id (this session's or
// another's) has caught up with everything committed so far, so that a
// session polling after this command's answer sees its effect.
func (s *session) catchUp(id uint64) {
	if s.view != nil && s.view.id == id {
		s.syncView()
		return
	}
	s.srv.reg.mu.Lock()
	b := s.srv.reg.boxes[id]
	s.srv.reg.mu.Unlock()
	if b == nil {
		return
	}
	var modseq uint64
	err := s.st().View(func(t *store.Tx) error {
		m, err := t.Mailbox(id)
		if err == nil {
			modseq = m.HighestModSeq
		}
		return err
	})
	if err == nil {
		b.waitFor(modseq)
	}
}

// syncView waits until the selected mailbox's view has caught up with
// everything committed so far (after this session's own writes).
func (s *session) syncView() {
	if s.view == nil {
		return
	}
	var modseq uint64
	err := s.st().View(func(t *store.Tx) error {
		m, err := t.Mailbox(s.view.id)
		if err == nil {
			modseq = m.HighestModSeq
		}
		return err
	})
	if err == nil {
		s.view.waitFor(modseq)
	}
}

// mailboxName maps what the client sent to the stored name: INBOX is
// case-insensitive, a trailing delimiter is dropped.
func mailboxName(name string) string {
	name = strings.TrimSuffix(name, string(store.MailboxDelim))
	if strings.EqualFold(name, store.Inbox) {
		return store.Inbox
	}
	if len(name) > 6 && strings.EqualFold(name[:6], store.Inbox+string(store.MailboxDelim)) {
		return store.Inbox + name[5:]
	}
	return name
}

// storeErr turns store errors into IMAP responses.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrMailboxNotFound):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "Ordner nicht gefunden."}
	case errors.Is(err, store.ErrMailboxExists):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlreadyExists, Text: "Ordner existiert bereits."}
	case errors.Is(err, store.ErrInboxProtected):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "INBOX kann nicht gelöscht oder ersetzt werden."}
	case errors.Is(err, store.ErrBadMailboxName):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Ungültiger Ordnername."}
	}
	return err
}

func (s *session) checkWritable() error {
	if s.readOnly {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: "READ-ONLY",
			Text: "Ordner ist schreibgeschützt geöffnet (EXAMINE)."}
	}
	return nil
}
