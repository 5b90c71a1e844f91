package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"schulhof/internal/bench"
	"schulhof/policy"
)

// BenchmarkSMTPLoad is the submission load (AUTH, 20 connections,
// 10 KB messages to random other users, each durable before its 250)
// against an in-process Schulhof, and, with SMTP_PEER=host:port, against
// that peer (Postfix submission: testuser1..20 / pass @school.test) in
// alternating rounds, so both see the same machine load:
//
//	SMTP_PEER=127.0.0.1:10587 go test ./internal/e2e -run '^$' -bench SMTPLoad -benchtime 1x
//
// SMTP_ROUNDS (default 3) and SMTP_SECONDS (default 5) set the rounds and
// their length.
func BenchmarkSMTPLoad(b *testing.B) {
	lim := policy.DefaultMailLimits()
	lim[policy.Student] = policy.MailLimits{GroupAddresses: policy.GroupsMember} // unlimited: the load is the point
	e := startMailB(b, mailOpts{limits: lim})
	var ours []bench.Cred
	for i := 1; i <= 20; i++ {
		n := e.user(b, "Last", fmt.Sprintf("Nutzer%c", 'a'+i-1), policy.Student)
		ours = append(ours, bench.Cred{User: n, Password: pw, Address: addr(n)})
	}
	peer := os.Getenv("SMTP_PEER")
	rounds, secs := envInt("SMTP_ROUNDS", 3), envInt("SMTP_SECONDS", 5)
	run := func(addr string, users []bench.Cred) float64 {
		res, err := bench.RunSMTP(context.Background(), bench.SMTPOptions{Addr: addr, Users: users, Conns: 20,
			Size: 10 << 10, Duration: time.Duration(secs) * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Errors) > 0 {
			b.Fatalf("%s: errors %v %v", addr, res.Errors, res.ErrorSamples)
		}
		return res.AcceptedPerSec
	}
	var sumOurs, sumPeer float64
	for r := 0; r < rounds; r++ {
		o := run(e.smtpAddr, ours)
		sumOurs += o
		line := fmt.Sprintf("round %d: schulhof %.0f msg/s", r+1, o)
		if peer != "" {
			p := run(peer, bench.PatternUsers("testuser%d", 1, 20, "pass", "school.test"))
			sumPeer += p
			line += fmt.Sprintf(", peer %.0f msg/s, ratio %.2f", p, o/p)
		}
		b.Log(line)
	}
	b.ReportMetric(sumOurs/float64(rounds), "schulhof_msg/s")
	if peer != "" {
		b.ReportMetric(sumPeer/float64(rounds), "peer_msg/s")
		b.ReportMetric(sumOurs/sumPeer, "ratio")
	}
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}
