package bench

// The large-mailbox table: each command a client sends to a big INBOX,
// timed once on the first connection after the server started ("first")
// and then again in further rounds ("warm", the median), one client.

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TableCommands are the rows, in the order they run each round.
var TableCommands = []string{
	"SELECT INBOX",
	"UID FETCH 1:* (FLAGS)",
	"UID SEARCH UNSEEN",
	"UID SEARCH SUBJECT (no match)",
	"STATUS INBOX (MESSAGES UNSEEN)",
	"UID STORE 1:1000 +FLAGS.SILENT",
	"SEARCH BODY (no match)",
}

// CommandTimes is one server's column: every round's time per command.
type CommandTimes struct {
	Addr     string
	Messages uint32 // EXISTS after SELECT
	Rounds   map[string][]time.Duration
	// Checks are the answers' sizes the runs compare across servers
	// (messages fetched, UIDs found), so a fast wrong answer shows.
	Checks map[string]int
}

// First is the first round's time.
func (c *CommandTimes) First(cmd string) time.Duration { return c.Rounds[cmd][0] }

// Warm is the median of the other rounds.
func (c *CommandTimes) Warm(cmd string) time.Duration {
	r := slices.Clone(c.Rounds[cmd][1:])
	if len(r) == 0 {
		return 0
	}
	slices.Sort(r)
	return r[len(r)/2]
}

// tableStep is one row's command for one round: it returns the size of
// its answer (messages, UIDs) for the cross-server check.
type tableStep func() (int, error)

// runTable runs rounds rounds of the table's steps (in TableCommands'
// order; steps[5], the STORE, is followed by undo, untimed).
func runTable(addr string, rounds int, steps []tableStep, undo func() error) (*CommandTimes, error) {
	res := &CommandTimes{Addr: addr, Rounds: map[string][]time.Duration{}, Checks: map[string]int{}}
	for r := range rounds {
		for i, f := range steps {
			name := TableCommands[i]
			// Each command starts with the client's heap collected, so
			// garbage from the last answer (100,000 FETCH items) is not
			// collected inside the next one's time, whichever server came
			// first in this process.
			runtime.GC()
			t0 := time.Now()
			n, err := f()
			d := time.Since(t0)
			if err != nil {
				return res, fmt.Errorf("%s: %w", name, err)
			}
			res.Rounds[name] = append(res.Rounds[name], d)
			if r == 0 {
				res.Checks[name] = n
			}
			if i == 0 {
				res.Messages = uint32(n)
			}
			if i == 5 {
				if err := undo(); err != nil {
					return res, err
				}
			}
		}
	}
	return res, nil
}

// RunCommands logs in with go-imap's client and times the table's
// commands for rounds rounds. STORE adds \Flagged to UIDs 1:1000 and,
// untimed, removes it again, so every round changes 1000 messages. The
// times include the client's parsing (for FETCH 1:* most of them); see
// RunCommandsLines for the server's share.
func RunCommands(addr string, mode TLSMode, insecure bool, cred Cred, rounds int) (*CommandTimes, error) {
	c, err := dialIMAP(addr, mode, insecure, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Login(cred.User, cred.Password).Wait(); err != nil {
		return nil, fmt.Errorf("login %s: %w", cred.User, err)
	}
	const nomatch = "zzqxnomatch"
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	first1000 := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 1000}}
	flagged := []imap.Flag{imap.FlagFlagged}
	steps := []tableStep{
		func() (int, error) {
			d, err := c.Select("INBOX", nil).Wait()
			if err != nil {
				return 0, err
			}
			return int(d.NumMessages), nil
		},
		func() (int, error) {
			msgs, err := c.Fetch(all, &imap.FetchOptions{Flags: true, UID: true}).Collect()
			return len(msgs), err
		},
		func() (int, error) {
			d, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
			if err != nil {
				return 0, err
			}
			return len(d.AllUIDs()), nil
		},
		func() (int, error) {
			d, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: nomatch}}}, nil).Wait()
			if err != nil {
				return 0, err
			}
			return len(d.AllUIDs()), nil
		},
		func() (int, error) {
			d, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
			if err != nil || d.NumUnseen == nil {
				return 0, fmt.Errorf("no UNSEEN: %v", err)
			}
			return int(*d.NumUnseen), nil
		},
		func() (int, error) {
			_, err := c.Store(first1000, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flagged}, nil).Collect()
			return 0, err
		},
		func() (int, error) {
			d, err := c.Search(&imap.SearchCriteria{Body: []string{nomatch}}, nil).Wait()
			if err != nil {
				return 0, err
			}
			return len(d.AllSeqNums()), nil
		},
	}
	undo := func() error {
		_, err := c.Store(first1000, &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: flagged}, nil).Collect()
		return err
	}
	res, err := runTable(addr, rounds, steps, undo)
	if err == nil {
		c.Logout().Wait()
	}
	return res, err
}

// CommandTable prints the columns side by side; the first is the one the
// ratios are of (Schulhof), the second the reference (Dovecot).
func CommandTable(names []string, cols []*CommandTimes) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-32s", "command")
	for i, c := range cols {
		fmt.Fprintf(&b, " | %-24s", fmt.Sprintf("%s (%d msgs) first / warm", names[i], c.Messages))
	}
	if len(cols) == 2 {
		fmt.Fprintf(&b, " | ratio first / warm")
	}
	b.WriteString("\n")
	for _, cmd := range TableCommands {
		fmt.Fprintf(&b, "%-32s", cmd)
		for _, c := range cols {
			fmt.Fprintf(&b, " | %-24s", fmt.Sprintf("%s / %s", msText(c.First(cmd)), msText(c.Warm(cmd))))
		}
		if len(cols) == 2 {
			fmt.Fprintf(&b, " | %.2f / %.2f", ratio(cols[0].First(cmd), cols[1].First(cmd)), ratio(cols[0].Warm(cmd), cols[1].Warm(cmd)))
		}
		b.WriteString("\n")
	}
	b.WriteString("answers (first round):")
	for i, c := range cols {
		fmt.Fprintf(&b, " %s", names[i])
		for _, cmd := range TableCommands {
			if n, ok := c.Checks[cmd]; ok && n > 0 {
				fmt.Fprintf(&b, " [%s: %d]", strings.Fields(cmd)[len(strings.Fields(cmd))-1], n)
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}

func msText(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
