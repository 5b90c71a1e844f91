package admin

// FillMail fills INBOXes with generated messages through the store APIs,
// for the large-mailbox and whole-school benchmarks: far faster than SMTP,
// and byte-identical to what bench.WriteMaildir gives Dovecot.

import (
	"bytes"
	"fmt"

	"schulhof/internal/bench"
	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// FillOptions say what FillMail generates.
type FillOptions struct {
	Accounts         []string // messages are spread evenly over these INBOXes
	AllAccounts      bool     // instead: every student and teacher account
	Messages         int      // in total
	Seed             uint64
	MinSize, MaxSize int
	Domain           string // of the To address
	// Batch is how many messages one transaction stores (default 2000).
	Batch int
}

// FillMail stores the messages and returns how many it stored. It writes
// into people's INBOXes, so the first transaction records who did it
// (bench.fill) in the audit log.
func (s *Service) FillMail(actor string, o FillOptions) (int, error) {
	if o.AllAccounts {
		all, err := s.Store.Accounts()
		if err != nil {
			return 0, err
		}
		o.Accounts = nil
		for _, a := range all {
			if a.Role == string(policy.Student) || a.Role == string(policy.Teacher) {
				o.Accounts = append(o.Accounts, a.Name)
			}
		}
	}
	if len(o.Accounts) == 0 || o.Messages <= 0 {
		return 0, fmt.Errorf("nothing to fill")
	}
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	// Each account gets a contiguous block of messages 0..per-1, so one
	// transaction writes few mailboxes and each INBOX is the same
	// generated mailbox as a maildir of that many messages.
	per := (o.Messages + len(o.Accounts) - 1) / len(o.Accounts)
	done := 0
	for done < o.Messages {
		n := min(o.Batch, o.Messages-done)
		byAcct := map[string][]store.NewMessage{}
		var pending []*store.PendingBlob
		for k := range n {
			i := done + k
			acct, idx := o.Accounts[i/per], i%per
			raw := bench.GenMessage(o.Seed, idx, acct+"@"+o.Domain, o.MinSize, o.MaxSize)
			pb, err := s.Store.WriteContent(bytes.NewReader(raw), -1)
			if err != nil {
				return done, err
			}
			pending = append(pending, pb)
			sum, err := mailmsg.Parse(bytes.NewReader(raw))
			if err != nil {
				return done, err
			}
			meta, err := mailmsg.Marshal(sum)
			if err != nil {
				return done, err
			}
			var flags []string
			if bench.GenSeen(idx) {
				flags = []string{`\Seen`}
			}
			byAcct[acct] = append(byAcct[acct], store.NewMessage{Blob: pb, Meta: meta, Flags: flags, Internal: bench.GenDate(idx)})
		}
		err := s.Store.Update(func(t *store.Tx) error {
			if done == 0 {
				err := t.Audit(store.AuditRecord{Actor: actor, Action: "bench.fill",
					Target: fmt.Sprintf("%d accounts", len(o.Accounts)), Detail: fmt.Sprintf("messages=%d seed=%d", o.Messages, o.Seed)})
				if err != nil {
					return err
				}
			}
			for acct, msgs := range byAcct {
				if _, err := t.AppendMessages(acct, store.Inbox, msgs); err != nil {
					return fmt.Errorf("%s: %w", acct, err)
				}
			}
			return nil
		})
		for _, pb := range pending {
			pb.Release()
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}
