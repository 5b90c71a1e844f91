package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"schulhof/internal/auth"
	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// Inspection ("Inaugenscheinnahme", AUDIT-INSPECT). The CLI acts for a
// named auditor only with that auditor's password: the OS user on the
// admin socket is no auditor, so root cannot request and approve alone by
// pretending to be two people. (Whoever can read the data directory can
// read the database; that is outside what software can prevent, and the
// audit chain is what shows it afterwards.)

// Creds name the auditor acting and prove it.
type Creds struct {
	Name     string // the auditor's account; empty: the OS user acts
	Password string
	Via      string // the OS user at the CLI ("cli:root") or "web", for the audit log
	// Account, if set, is the account of a portal session: the login was
	// the proof, no password is asked again.
	Account *store.Account
}

// InspectView is what an approved inspection shows.
type InspectView struct {
	Inspection store.Inspection     `json:"inspection"`
	Logins     []store.LoginRecord  `json:"logins,omitempty"`
	Mail       []InspectMessage     `json:"mail,omitempty"`
	Chat       []InspectChatMessage `json:"chat,omitempty"`
}

// InspectMessage is one message of the person, read without changing it.
type InspectMessage struct {
	Mailbox string    `json:"mailbox"`
	UID     uint32    `json:"uid"`
	Date    time.Time `json:"date"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Flags   []string  `json:"flags,omitempty"`
	Text    string    `json:"text"`
}

// InspectChatMessage is one chat message of or to the person.
type InspectChatMessage struct {
	Room string `json:"room"`
	store.ChatMessage
}

// maxInspectText bounds the text shown per message.
const maxInspectText = 64 << 10

func (s *Service) inspectView() time.Duration {
	if s.InspectView > 0 {
		return s.InspectView
	}
	return policy.DefaultInspectView
}

// inspector authenticates the acting auditor. Without a name the OS user
// acts, which has no role and is refused by policy.
func (s *Service) inspector(c Creds) (policy.Inspector, error) {
	if c.Account != nil {
		return policy.Inspector{Name: c.Account.Name, Role: policy.Role(c.Account.Role)}, nil
	}
	if c.Name == "" {
		return policy.Inspector{Name: c.Via}, nil
	}
	name := strings.ToLower(strings.TrimSpace(c.Name))
	if s.Auth != nil {
		a, d := s.Auth.Verify(context.Background(), auth.Attempt{Name: name, Password: c.Password,
			Protocol: "cli", IP: "local", Service: policy.ServiceWeb})
		if !d.Allow {
			return policy.Inspector{}, d.Err()
		}
		return policy.Inspector{Name: a.Name, Role: policy.Role(a.Role)}, nil
	}
	a, err := s.Store.Account(name)
	ok := false
	if err == nil {
		ok, _ = auth.CheckPassword(c.Password, a.PasswordHash)
	}
	if !ok {
		return policy.Inspector{}, policy.Deny(policy.AuthFailed, "Anmeldung fehlgeschlagen: Name oder Passwort falsch.").Err()
	}
	if d := policy.CheckLogin(policy.LoginFacts{Locked: a.Locked, LockReason: a.LockReason, MustChange: a.MustChange,
		ConsentPlatform: a.ConsentPlatform, ConsentComms: a.ConsentComms}, policy.ServiceWeb, policy.PurposeUse); !d.Allow {
		return policy.Inspector{}, d.Err()
	}
	return policy.Inspector{Name: a.Name, Role: policy.Role(a.Role)}, nil
}

// refuseInspect records a refused step in the audit log (an admin trying
// is worth knowing) and returns the refusal.
func (s *Service) refuseInspect(who policy.Inspector, c Creds, action, target string, d policy.Decision) error {
	actor, via := who.Name, "via "+c.Via
	if actor == "" { // not authenticated: the OS user acted, claiming a name
		actor = c.Via
		if c.Name != "" {
			via = "claimed as " + c.Name
		}
	}
	s.Store.Update(func(t *store.Tx) error {
		return t.Audit(store.AuditRecord{Actor: actor, Action: action + ".refused", Target: target,
			Detail: fmt.Sprintf("%s %s", d, via)})
	})
	return d.Err()
}

func inspectState(in *store.Inspection) policy.InspectState {
	return policy.InspectState{Person: in.Person, RequestedBy: in.RequestedBy, Approved: in.ApprovedBy != "",
		ApprovedBy: in.ApprovedBy, Until: in.Until, Closed: in.Closed}
}

// RequestInspection records a request by one auditor.
func (s *Service) RequestInspection(c Creds, person, scope, reason, caseRef string) (*store.Inspection, error) {
	who, err := s.inspector(c)
	if err != nil {
		return nil, s.refuseInspect(policy.Inspector{}, c, "inspect.request", person, refusalOf(err))
	}
	in := &store.Inspection{Person: person, Scope: scope, Reason: strings.TrimSpace(reason), Case: strings.TrimSpace(caseRef),
		RequestedBy: who.Name, RequestedAt: s.now()}
	var refusal policy.Decision
	err = s.Store.Update(func(t *store.Tx) error {
		a, err := t.Account(person)
		f := policy.InspectRequest{Person: person, PersonKnown: err == nil, Scope: policy.InspectScope(scope), Reason: reason, Case: caseRef}
		if a != nil {
			f.PersonRole = policy.Role(a.Role)
		}
		if d := policy.CheckInspectRequest(who, f); !d.Allow {
			refusal = d
			return d.Err()
		}
		if err := t.AddInspection(in); err != nil {
			return err
		}
		return t.Audit(store.AuditRecord{Actor: who.Name, Action: "inspect.request", Target: person,
			Detail: fmt.Sprintf("id=%d scope=%s case=%s reason=%s via %s", in.ID, scope, in.Case, in.Reason, c.Via)})
	})
	if refusal.Rule != "" {
		return nil, s.refuseInspect(who, c, "inspect.request", person, refusal)
	}
	return in, err
}

// refusalOf gets the decision out of an error (AUTH-FAILED and others).
func refusalOf(err error) policy.Decision {
	var re *policy.RefusalError
	if errors.As(err, &re) {
		return re.Decision
	}
	return policy.Deny(policy.AuditInspect, "%v", err)
}

// ApproveInspection is the second auditor's approval. The view opens with
// it, and in the same transaction the person gets the notice in the INBOX.
func (s *Service) ApproveInspection(c Creds, id uint64) (*store.Inspection, error) {
	who, err := s.inspector(c)
	target := fmt.Sprintf("inspection %d", id)
	if err != nil {
		return nil, s.refuseInspect(policy.Inspector{}, c, "inspect.approve", target, refusalOf(err))
	}
	var in *store.Inspection
	var person *store.Account
	if err := s.Store.View(func(t *store.Tx) error {
		var err error
		if in, err = t.Inspection(id); err != nil {
			return err
		}
		person, err = t.Account(in.Person)
		return err
	}); err != nil {
		return nil, notFound(err, "inspection", fmt.Sprint(id))
	}
	if d := policy.CheckInspectApprove(who, inspectState(in)); !d.Allow {
		return nil, s.refuseInspect(who, c, "inspect.approve", in.Person, d)
	}
	now := s.now()
	in.ApprovedBy, in.ApprovedAt, in.Until = who.Name, now, now.Add(s.inspectView())
	raw := s.inspectNotice(in, person, now)
	pb, err := s.Store.WriteBlob(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, err
	}
	defer pb.Release()
	sum, err := mailmsg.Parse(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	meta, err := mailmsg.Marshal(sum)
	if err != nil {
		return nil, err
	}
	var refusal policy.Decision
	err = s.Store.Update(func(t *store.Tx) error {
		cur, err := t.Inspection(id)
		if err != nil {
			return err
		}
		if d := policy.CheckInspectApprove(who, inspectState(cur)); !d.Allow {
			refusal = d
			return d.Err()
		}
		got, err := t.DeliverNotice(in.Person, store.NewMessage{Blob: pb, Meta: meta, Internal: now})
		if err != nil {
			return err
		}
		in.NoticeUID = got.UID
		if err := t.PutInspection(in); err != nil {
			return err
		}
		if err := t.Audit(store.AuditRecord{Actor: who.Name, Action: "inspect.approve", Target: in.Person,
			Detail: fmt.Sprintf("id=%d scope=%s case=%s requested_by=%s until=%s via %s", id, in.Scope, in.Case, in.RequestedBy, in.Until.Format(time.RFC3339), c.Via)}); err != nil {
			return err
		}
		return t.Audit(store.AuditRecord{Actor: who.Name, Action: "inspect.notice", Target: in.Person,
			Detail: fmt.Sprintf("id=%d INBOX uid=%d", id, got.UID)})
	})
	if refusal.Rule != "" {
		return nil, s.refuseInspect(who, c, "inspect.approve", in.Person, refusal)
	}
	if err != nil {
		return nil, err
	}
	return in, nil
}

var scopeNames = map[string]string{"loginlog": "Anmeldeprotokoll (Zeit, Dienst, IP-Adresse)", "mail": "E-Mails", "chat": "Chat-Nachrichten"}

// inspectNotice is the message that tells the person, in German, who looks
// at what, why, under which case reference, until when.
func (s *Service) inspectNotice(in *store.Inspection, person *store.Account, now time.Time) []byte {
	var body strings.Builder
	fmt.Fprintf(&body, "Guten Tag %s %s,\n\n", person.First, person.Last)
	body.WriteString("nach der Nutzungsordnung der Schule werden Sie unverzüglich informiert, wenn Ihre Daten\n" +
		"auf Schulhof eingesehen werden. Eine solche Einsicht (Inaugenscheinnahme) wurde soeben von zwei\n" +
		"durch die Schulleitung benannten Personen freigegeben:\n\n")
	fmt.Fprintf(&body, "Umfang:          %s\n", scopeNames[in.Scope])
	fmt.Fprintf(&body, "Grund:           %s\n", in.Reason)
	fmt.Fprintf(&body, "Aktenzeichen:    %s\n", in.Case)
	fmt.Fprintf(&body, "Beantragt von:   %s am %s\n", in.RequestedBy, in.RequestedAt.Local().Format("02.01.2006 15:04"))
	fmt.Fprintf(&body, "Genehmigt von:   %s am %s\n", in.ApprovedBy, in.ApprovedAt.Local().Format("02.01.2006 15:04"))
	fmt.Fprintf(&body, "Einsicht bis:    %s\n\n", in.Until.Local().Format("02.01.2006 15:04"))
	body.WriteString("Die Einsicht ist nur lesend: an Ihren Nachrichten und Daten wird nichts verändert.\n" +
		"Jeder Schritt steht im Audit-Protokoll der Schule. Fragen richten Sie bitte an die\n" +
		"Schulleitung; eine Antwort auf diese Nachricht erreicht die beiden genannten Personen.\n\n" +
		"Schulhof\n")
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(strings.ReplaceAll(body.String(), "\n", "\r\n")))
	w.Close()
	var m bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&m, "%s: %s\r\n", k, v) }
	hdr("From", mime.QEncoding.Encode("utf-8", "Schulhof Datenschutz")+" <schulhof@"+s.Domain+">")
	hdr("Reply-To", s.Address(in.RequestedBy)+", "+s.Address(in.ApprovedBy))
	hdr("To", s.Address(person.Name))
	hdr("Subject", mime.QEncoding.Encode("utf-8", "Hinweis: Einsicht in Ihre Daten (Aktenzeichen "+in.Case+")"))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", fmt.Sprintf("<inspection-%d-%d@%s>", in.ID, now.UnixNano(), s.Domain))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	m.WriteString("\r\n")
	m.Write(qp.Bytes())
	return m.Bytes()
}

// Inspections lists the requests; only auditors see them.
func (s *Service) Inspections(c Creds) ([]store.Inspection, error) {
	who, err := s.inspector(c)
	if err != nil {
		return nil, s.refuseInspect(policy.Inspector{}, c, "inspect.list", "", refusalOf(err))
	}
	if d := policy.CheckInspectList(who); !d.Allow {
		return nil, s.refuseInspect(who, c, "inspect.list", "", d)
	}
	if err := s.Store.Update(func(t *store.Tx) error {
		return t.Audit(store.AuditRecord{Actor: who.Name, Action: "inspect.list", Detail: "via " + c.Via})
	}); err != nil {
		return nil, err
	}
	list, err := s.Store.Inspections()
	if list == nil {
		list = []store.Inspection{}
	}
	return list, err
}

// ShowInspection returns the person's data within the scope, read-only,
// and records the view in the audit log before anything is read.
func (s *Service) ShowInspection(c Creds, id uint64) (*InspectView, error) {
	who, err := s.inspector(c)
	target := fmt.Sprintf("inspection %d", id)
	if err != nil {
		return nil, s.refuseInspect(policy.Inspector{}, c, "inspect.view", target, refusalOf(err))
	}
	var in *store.Inspection
	var refusal policy.Decision
	err = s.Store.Update(func(t *store.Tx) error {
		var err error
		if in, err = t.Inspection(id); err != nil {
			return notFound(err, "inspection", fmt.Sprint(id))
		}
		if d := policy.CheckInspectView(who, inspectState(in), s.now()); !d.Allow {
			refusal = d
			return d.Err()
		}
		return t.Audit(store.AuditRecord{Actor: who.Name, Action: "inspect.view", Target: in.Person,
			Detail: fmt.Sprintf("id=%d scope=%s case=%s via %s", id, in.Scope, in.Case, c.Via)})
	})
	if refusal.Rule != "" {
		return nil, s.refuseInspect(who, c, "inspect.view", in.Person, refusal)
	}
	if err != nil {
		return nil, err
	}
	v := &InspectView{Inspection: *in}
	switch in.Scope {
	case string(policy.ScopeLoginLog):
		v.Logins, err = s.Store.LoginLog(in.Person, time.Time{})
	case string(policy.ScopeMail):
		v.Mail, err = s.inspectMail(in.Person)
	case string(policy.ScopeChat):
		v.Chat, err = s.inspectChat(in.Person)
	}
	return v, err
}

// inspectMail reads every message of the person without touching flags
// (no \Seen is set: the view is read-only).
func (s *Service) inspectMail(person string) ([]InspectMessage, error) {
	boxes, err := s.Store.Mailboxes(person)
	if err != nil {
		return nil, err
	}
	var out []InspectMessage
	for _, b := range boxes {
		var msgs []store.Message
		if err := s.Store.View(func(t *store.Tx) error {
			return t.ForEachMessage(b.ID, func(m *store.Message) error { msgs = append(msgs, *m); return nil })
		}); err != nil {
			return nil, err
		}
		for _, m := range msgs {
			im := InspectMessage{Mailbox: b.Name, UID: m.UID, Date: m.Internal, Flags: m.Flags}
			r, err := s.Store.OpenMessage(b.ID, m.UID, m.Blob)
			if errors.Is(err, store.ErrMessageGone) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if h, err := mailmsg.Header(r); err == nil {
				for _, f := range h {
					k, v, _ := strings.Cut(f, ": ")
					switch strings.ToLower(k) {
					case "from":
						im.From = v
					case "to":
						im.To = v
					case "subject":
						im.Subject = v
					}
				}
			}
			r.Seek(0, 0)
			im.Text = mailmsg.BodyText(r)
			r.Close()
			if len(im.Text) > maxInspectText {
				im.Text = im.Text[:maxInspectText] + "\n[… gekürzt]"
			}
			out = append(out, im)
		}
	}
	return out, nil
}

// inspectChat returns the person's direct conversations whole and, from
// the group rooms, the messages the person wrote.
func (s *Service) inspectChat(person string) ([]InspectChatMessage, error) {
	var out []InspectChatMessage
	direct, err := s.Store.DirectRoomsOf(person)
	if err != nil {
		return nil, err
	}
	groups, err := s.Store.GroupsOf(person)
	if err != nil {
		return nil, err
	}
	rooms := direct
	for _, g := range groups {
		rooms = append(rooms, store.GroupRoomID(g.Name))
	}
	for i, room := range rooms {
		msgs, err := s.roomHistory(room)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if i < len(direct) || m.Author == person {
				out = append(out, InspectChatMessage{Room: room, ChatMessage: m})
			}
		}
	}
	return out, nil
}

func (s *Service) roomHistory(room string) ([]store.ChatMessage, error) {
	var all []store.ChatMessage
	before := uint64(0)
	for {
		msgs, more, err := s.Store.History(room, before, 500)
		if err != nil {
			return nil, err
		}
		all = append(msgs, all...)
		if !more || len(msgs) == 0 {
			return all, nil
		}
		before = msgs[0].Seq
	}
}

// CloseInspection ends a request early (withdrawn, or the view no longer
// needed): nobody sees the data through it any more.
func (s *Service) CloseInspection(c Creds, id uint64, note string) (*store.Inspection, error) {
	who, err := s.inspector(c)
	if err != nil {
		return nil, s.refuseInspect(policy.Inspector{}, c, "inspect.close", fmt.Sprintf("inspection %d", id), refusalOf(err))
	}
	var in *store.Inspection
	var refusal policy.Decision
	err = s.Store.Update(func(t *store.Tx) error {
		var err error
		if in, err = t.Inspection(id); err != nil {
			return notFound(err, "inspection", fmt.Sprint(id))
		}
		if d := policy.CheckInspectClose(who, inspectState(in)); !d.Allow {
			refusal = d
			return d.Err()
		}
		in.Closed = true
		if err := t.PutInspection(in); err != nil {
			return err
		}
		return t.Audit(store.AuditRecord{Actor: who.Name, Action: "inspect.close", Target: in.Person,
			Detail: fmt.Sprintf("id=%d note=%s via %s", id, strings.TrimSpace(note), c.Via)})
	})
	if refusal.Rule != "" {
		return nil, s.refuseInspect(who, c, "inspect.close", in.Person, refusal)
	}
	return in, err
}
