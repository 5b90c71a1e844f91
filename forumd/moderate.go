package forumd

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// Moderation and reports. The author of a deleted or hidden post (or a
// locked thread) is told by an internal mail to her INBOX, delivered in
// the transaction that acts: mail reaches her in every client she reads
// with, stays hers (the mail privacy provider answers for it, export and
// erasure included) and needs no second notice store next to the one the
// inspection notice already uses.

// Moderate carries out one action in forum on a post (delete, hide,
// unhide) or a thread (lock, unlock), if the account moderates forum and
// the item belongs to it (FORUM-MOD-SCOPE, decided in the transaction).
func (s *Service) Moderate(a *store.Account, forum string, act policy.ForumAct, id uint64, reason string) (store.ForumModerated, error) {
	s.init()
	if !policy.ValidForumAct(act) {
		return store.ForumModerated{}, policy.CheckForumModerate(policy.ForumModFacts{Act: act}).Err()
	}
	if d := s.Policy.CheckBound(policy.ChatReportReasonBytes, int64(len(reason))); !d.Allow {
		return store.ForumModerated{}, d.Err()
	}
	reason = strings.TrimSpace(reason)
	if act == policy.ForumDelete && reason == "" {
		return store.ForumModerated{}, policy.Deny(policy.ForumModScope, "Eine Löschung braucht einen Grund.").Err()
	}
	now := s.now()
	m := store.ForumModeration{Forum: forum, Act: string(act), ID: id, Actor: a.Name, Reason: reason, At: now,
		Check: func(t *store.Tx, named *store.Forum, itemForum string) error {
			return policy.CheckForumModerate(policy.ForumModFacts{Act: act, Forum: named.ID, ItemForum: itemForum,
				Moderator: policy.IsForumModerator(RoleIn(t, a, named))}).Err()
		}}
	// The notice is written before the transaction (a blob is on disk
	// before anything references it); it is dropped if the action is refused.
	if notice := s.notice(a, forum, act, id, reason, now); notice != nil {
		pb, err := s.Store.WriteBlob(bytes.NewReader(notice), int64(len(notice)))
		if err != nil {
			return store.ForumModerated{}, err
		}
		defer pb.Release()
		sum, err := mailmsg.Parse(bytes.NewReader(notice))
		if err != nil {
			return store.ForumModerated{}, err
		}
		meta, err := mailmsg.Marshal(sum)
		if err != nil {
			return store.ForumModerated{}, err
		}
		m.Notice = &store.NewMessage{Blob: pb, Meta: meta, Internal: now}
	}
	out, err := s.Store.Moderate(m)
	if err == nil {
		s.Logger.Info("forum: moderation", "forum", forum, "act", act, "id", id, "by", a.Name, "told", out.Author)
	}
	return out, err
}

var actTexts = map[policy.ForumAct]string{
	policy.ForumDelete: "gelöscht", policy.ForumHide: "ausgeblendet", policy.ForumUnhide: "wieder eingeblendet",
	policy.ForumLock: "für Antworten gesperrt", policy.ForumUnlock: "wieder für Antworten geöffnet",
}

// notice is the mail that tells the author what a moderator did, or nil
// when there is nobody to tell (unknown item: the store refuses anyway).
func (s *Service) notice(mod *store.Account, forum string, act policy.ForumAct, id uint64, reason string, now time.Time) []byte {
	var author, title, excerpt, what string
	_ = s.Store.View(func(t *store.Tx) error {
		switch act {
		case policy.ForumLock, policy.ForumUnlock:
			if th, err := t.ForumThread(id); err == nil && th.Forum == forum {
				author, title, what = th.Author, th.Title, "Ihr Thema"
			}
		default:
			if p, err := t.ForumPost(id); err == nil && p.Forum == forum {
				author, excerpt, what = p.Author, p.Text, "Ihr Beitrag"
				if th, err := t.ForumThread(p.Thread); err == nil {
					title = th.Title
				}
			}
		}
		return nil
	})
	if author == "" || author == mod.Name {
		return nil
	}
	fname := forum
	if f, err := s.Store.Forum(forum); err == nil && f.Title != "" {
		fname = f.Title
	}
	if len(excerpt) > 300 {
		excerpt = excerpt[:300] + " …"
	}
	var body strings.Builder
	body.WriteString("Guten Tag,\n\n")
	fmt.Fprintf(&body, "%s im Forum \"%s\" (Thema \"%s\") wurde von der Moderation %s.\n\n", what, fname, title, actTexts[act])
	fmt.Fprintf(&body, "Moderation: %s %s (%s)\n", mod.First, mod.Last, mod.Name)
	fmt.Fprintf(&body, "Zeitpunkt:  %s\n", now.Local().Format("02.01.2006 15:04"))
	if reason != "" {
		fmt.Fprintf(&body, "Grund:      %s\n", reason)
	}
	if excerpt != "" {
		fmt.Fprintf(&body, "\nDer Beitrag lautete:\n%s\n", excerpt)
	}
	body.WriteString("\nFragen dazu beantwortet die Moderation; eine Antwort auf diese Nachricht erreicht sie.\n" +
		"Die Aktion steht im Audit-Protokoll der Schule.\n\nSchulhof\n")
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(strings.ReplaceAll(body.String(), "\n", "\r\n")))
	w.Close()
	var msg bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	hdr("From", mime.QEncoding.Encode("utf-8", "Schulhof Forum")+" <schulhof@"+s.Domain+">")
	hdr("Reply-To", mod.Name+"@"+s.Domain)
	hdr("To", author+"@"+s.Domain)
	hdr("Subject", mime.QEncoding.Encode("utf-8", "Forum: "+what+" wurde "+actTexts[act]))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", fmt.Sprintf("<forum-%s-%d-%d@%s>", act, id, now.UnixNano(), s.Domain))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	msg.WriteString("\r\n")
	msg.Write(qp.Bytes())
	return msg.Bytes()
}

// Report files "Melden" on a post for the forum's moderators.
func (s *Service) Report(a *store.Account, forum string, post uint64, reason string) (uint64, error) {
	s.init()
	if d := s.Policy.CheckBound(policy.ChatReportReasonBytes, int64(len(reason))); !d.Allow {
		return 0, d.Err()
	}
	id, err := s.Store.CreateForumReport(forum, post, a.Name, strings.TrimSpace(reason), reportContext, s.now(), writeCheck(a))
	if err == nil {
		s.Logger.Info("forum: report", "id", id, "forum", forum, "post", post, "reporter", a.Name)
	}
	return id, err
}

// Moderated lists the forums the account moderates.
func (s *Service) Moderated(a *store.Account) (map[string]bool, error) {
	forums, err := s.Forums(a)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, f := range forums {
		if f.Moderator {
			out[f.Forum.ID] = true
		}
	}
	return out, nil
}

// Reports lists the reports of the forums the account moderates.
func (s *Service) Reports(a *store.Account, includeClosed bool) ([]store.ReportSummary, error) {
	mods, err := s.Moderated(a)
	if err != nil || len(mods) == 0 {
		return nil, err
	}
	return s.Store.ForumReports(mods, includeClosed)
}

// reportOf returns a report's summary if the account moderates its forum
// (FORUM-MOD-SCOPE: another forum's report ID is refused).
func (s *Service) reportOf(a *store.Account, id uint64) (*store.ReportSummary, error) {
	sum, err := s.Store.ReportSummaryOf(id)
	if err != nil {
		return nil, err
	}
	mods, err := s.Moderated(a)
	if err != nil {
		return nil, err
	}
	if sum.Forum == "" || !mods[sum.Forum] {
		return nil, policy.Deny(policy.ForumModScope, "Diese Meldung gehört nicht zu einem Forum, das Sie moderieren.").Err()
	}
	return sum, nil
}

// ReadReport returns a report of a forum the account moderates (the
// store audits the read).
func (s *Service) ReadReport(a *store.Account, id uint64) (*store.ChatReport, error) {
	if _, err := s.reportOf(a, id); err != nil {
		return nil, err
	}
	return s.Store.ReadReport(id, a.Name)
}

// CloseReport marks a report of a forum the account moderates handled.
func (s *Service) CloseReport(a *store.Account, id uint64, note string) error {
	if _, err := s.reportOf(a, id); err != nil {
		return err
	}
	return s.Store.CloseReport(id, a.Name, note, s.now())
}

// EscalateReport passes a report on to the admins.
func (s *Service) EscalateReport(a *store.Account, id uint64, note string) error {
	if _, err := s.reportOf(a, id); err != nil {
		return err
	}
	return s.Store.EscalateReport(id, a.Name, note, s.now())
}
