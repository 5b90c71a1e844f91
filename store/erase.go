package store

// Erasure of one person: every provider of the privacy registry
// (privacy.go) removes its part, each in transactions of bounded size, so
// a large mailbox or home folder never holds the write lock for long and
// the server keeps serving. The order matters:
//
//  1. (platform) the account is locked first: sessions end at once and
//     nothing new arrives while its data goes;
//  2. the domain providers (mail, files, chat, …), then the audit
//     redaction;
//  3. (platform) the account record itself, with the one "privacy.erase"
//     audit record naming the erasure, in one transaction;
//  4. the freed pages of the database file are overwritten (scrub.go), so
//     that what was erased is unreadable on disk too.
//
// An erasure that stops half-way (a crash, a disk error) is finished by
// running it again: every step only removes what is still there, and the
// account record goes last.

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// eraseChunk bounds the records one erasing transaction removes or
// rewrites; eraseScanChunk the keys one transaction looks at when a
// provider must scan a bucket shared by everyone (the login log, chat).
const (
	eraseChunk     = 500
	eraseScanChunk = 5000
)

// Names of the providers EraseAccount orders itself.
const (
	providerAccounts = "accounts"
	providerAudit    = "audit"
)

// ActionErase is the audit action of an erasure.
const ActionErase = "privacy.erase"

// EraseAccount erases what the account stored, as scope says; see
// EraseAccountBy. The audit record names the actor "system".
func (s *Store) EraseAccount(account string, scope EraseScope) (*ErasureReport, error) {
	return s.EraseAccountBy("system", account, scope)
}

// EraseAccountBy is EraseAccount with the actor the audit record names (an
// admin, "cli:<os user>", the leavers job). With ErasePlatform the account
// record goes too (its name record stays: names are never given again);
// with EraseComms only the providers marked Comms (mail, chat) run and the
// account stays.
func (s *Store) EraseAccountBy(actor, account string, scope EraseScope) (*ErasureReport, error) {
	if account == "" {
		return nil, fmt.Errorf("erase: no account name")
	}
	r := &ErasureReport{Account: account, Scope: scope, Items: map[string]int{}}
	if err := s.oweScrub(); err != nil {
		return nil, err
	}
	if scope == ErasePlatform {
		if _, err := s.UpdateAccount(account, func(a *Account) error {
			if !a.Locked {
				a.Locked, a.LockReason, a.LockedAt, a.LockedBy = true, "Löschung", time.Now().UTC(), actor
			}
			return nil
		}); err != nil {
			return nil, err
		}
	} else if _, err := s.Account(account); err != nil {
		return nil, err
	}
	var accounts, audit *PrivacyProvider
	for i := range privacyProviders {
		p := &privacyProviders[i]
		switch {
		case scope == EraseComms && !p.Comms:
			continue
		case p.Name == providerAccounts:
			accounts = p
			continue
		case p.Name == providerAudit:
			audit = p
			continue
		}
		if err := s.runProvider(p, account, r); err != nil {
			return r, err
		}
	}
	if audit != nil {
		if err := s.runProvider(audit, account, r); err != nil {
			return r, err
		}
	}
	if accounts != nil {
		if err := s.runProvider(accounts, account, r); err != nil {
			return r, err
		}
	}
	err := s.update(func(t *Tx) error {
		return t.Audit(AuditRecord{Actor: actor, Action: ActionErase, Target: account, Detail: r.Summary()})
	})
	if err != nil {
		return r, err
	}
	return r, s.scrubAfterErase(r)
}

func (s *Store) runProvider(p *PrivacyProvider, account string, r *ErasureReport) error {
	if p.Erase == nil {
		return nil
	}
	if _, ok := r.Items[p.Name]; !ok {
		r.Items[p.Name] = 0 // a provider that found nothing still shows
	}
	if err := p.Erase(s, account, r); err != nil {
		return fmt.Errorf("erase %s of %s: %w", p.Name, account, err)
	}
	return nil
}

// Summary is the report in one line ("mail=12 files=3 … bytes=1234"), as
// the audit record keeps it.
func (r *ErasureReport) Summary() string {
	names := make([]string, 0, len(r.Items))
	for n := range r.Items {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	scope := "platform"
	if r.Scope == EraseComms {
		scope = "comms"
	}
	fmt.Fprintf(&b, "scope=%s", scope)
	for _, n := range names {
		fmt.Fprintf(&b, " %s=%d", n, r.Items[n])
	}
	fmt.Fprintf(&b, " bytes=%d", r.BytesFreed)
	return b.String()
}

// eraseUpdate runs one erasing transaction: like update, but blob files
// that lose their last reference are overwritten before they are removed,
// and the content bytes freed are added to r.
func (s *Store) eraseUpdate(r *ErasureReport, fn func(*Tx) error) error {
	freed, err := s.writeTx(s.db.Update, fn, true)
	r.BytesFreed += freed
	return err
}

// errChunkDone ends an erasing transaction that found nothing to do: it
// is rolled back instead of committed.
var errChunkDone = errors.New("erase: nothing left")

// eraseLoop runs step in erasing transactions until it reports done; n
// is what each step removed, added to the report under provider.
func (s *Store) eraseLoop(r *ErasureReport, provider string, step func(t *Tx) (n int, done bool, err error)) error {
	for {
		var n int
		var done bool
		err := s.eraseUpdate(r, func(t *Tx) error {
			var err error
			n, done, err = step(t)
			if err == nil && done && n == 0 {
				return errChunkDone
			}
			return err
		})
		if errors.Is(err, errChunkDone) {
			return nil
		}
		if err != nil {
			return err
		}
		r.Add(provider, n)
		if done {
			return nil
		}
	}
}

// eraseScan walks a bucket (from the prefix on, while keys have it) in
// transactions of at most eraseScanChunk keys, and lets fix decide for
// each record: keep it (nil, false), rewrite it (new value, false) or
// delete it (nil, true). It returns how many records changed.
func (s *Store) eraseScan(r *ErasureReport, provider string, bucket, prefix []byte,
	fix func(t *Tx, k, v []byte) (nv []byte, del bool, err error)) error {
	from := append([]byte{}, prefix...)
	for from != nil { // nil: the walk reached the end
		var next []byte
		n := 0
		err := s.eraseUpdate(r, func(t *Tx) error {
			next, n = nil, 0
			type change struct {
				k, v []byte
				del  bool
			}
			var changes []change
			b := t.bucket(bucket)
			c := b.Cursor()
			seen := 0
			for k, v := c.Seek(from); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
				if seen == eraseScanChunk {
					next = append([]byte(nil), k...)
					break
				}
				seen++
				nv, del, err := fix(t, k, v)
				if err != nil {
					return err
				}
				if del || nv != nil {
					changes = append(changes, change{append([]byte(nil), k...), nv, del})
				}
			}
			for _, ch := range changes {
				var err error
				if ch.del {
					err = b.Delete(ch.k)
				} else {
					err = b.Put(ch.k, ch.v)
				}
				if err != nil {
					return err
				}
			}
			n = len(changes)
			if n == 0 {
				return errChunkDone // nothing to commit
			}
			return nil
		})
		if err != nil && !errors.Is(err, errChunkDone) {
			return err
		}
		r.Add(provider, n)
		from = next
	}
	return nil
}

// deletePrefix removes up to limit keys with prefix from a bucket and
// reports how many it removed.
func (t *Tx) deletePrefix(bucket, prefix []byte, limit int) (int, error) {
	c := t.bucket(bucket).Cursor()
	n := 0
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix) && n < limit; k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
