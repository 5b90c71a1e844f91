package metrics

import (
	"testing"
	"time"
)

// BenchmarkSMTPMessageCounters is what one submitted message costs the
// metrics: its commands (EHLO AUTH MAIL RCPT DATA QUIT), the delivery,
// one commit observation and a connection opened and closed.
func BenchmarkSMTPMessageCounters(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			done := m.ConnOpened(SMTP, "submission")
			for _, c := range []string{"EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"} {
				m.Command(SMTP, c)
			}
			m.Delivered(1)
			m.Commit(true, time.Millisecond)
			done()
		}
	})
}
