package main

import "schulhof/store"

// printReport shows a report as the admin reads it: facts, reason, and
// the frozen messages with the reported one marked.
func printReport(e *env, r *store.ChatReport) {
	e.printf("Report %d  %s\nroom:     %s\nreporter: %s\nauthor:   %s\nreason:   %s\n", r.ID, fmtTime(r.Time), r.Room, r.Reporter, r.Author, r.Reason)
	if r.Closed {
		e.printf("closed:   %s by %s: %s\n", fmtTime(r.ClosedAt), r.ClosedBy, r.Note)
	}
	e.printf("\n")
	for _, m := range r.Context {
		mark := "  "
		if m.Seq == r.Seq {
			mark = "> "
		}
		text := m.Text
		if m.Deleted {
			text = "(Nachricht gelöscht)"
		} else if m.Edited {
			text += " (bearbeitet)"
		}
		e.printf("%s#%d %s %s: %s\n", mark, m.Seq, fmtTime(m.Time), m.Author, text)
	}
	e.printf("\n(This read is recorded in the audit log: CHAT-READ-REPORTED.)\n")
}
