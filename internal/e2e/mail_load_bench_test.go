package e2e

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"schulhof/internal/bench"
	"schulhof/policy"
	"schulhof/store"
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
// their length; SMTP_PREFILL=n delivers n messages first.
func BenchmarkSMTPLoad(b *testing.B) {
	lim := policy.DefaultMailLimits()
	lim[policy.Student] = policy.MailLimits{GroupAddresses: policy.GroupsMember} // unlimited: the load is the point
	e := startMailB(b, mailOpts{limits: lim})
	var ours []bench.Cred
	for i := 1; i <= 20; i++ {
		n := e.user(b, "Last", fmt.Sprintf("Nutzer%c", 'a'+i-1), policy.Student)
		ours = append(ours, bench.Cred{User: n, Password: pw, Address: addr(n)})
	}
	if n := envInt("SMTP_PREFILL", 0); n > 0 { // a store that already holds mail
		var wg sync.WaitGroup
		for w := 0; w < 20; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 20 {
					body := fmt.Sprintf("From: %s\r\nSubject: %d\r\n\r\n%s\r\n", ours[w].Address, i, strings.Repeat("Füllung ", 1200))
					pb, err := e.st.WriteContent(strings.NewReader(body), -1)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := e.st.Deliver(store.Delivery{NewMessage: store.NewMessage{Blob: pb, Meta: []byte("{}")}, Recipients: []string{ours[(w+1)%20].User}}); err != nil {
						b.Error(err)
					}
					pb.Release()
				}
			}()
		}
		wg.Wait()
	}
	peer := os.Getenv("SMTP_PEER")
	rounds, secs := envInt("SMTP_ROUNDS", 3), envInt("SMTP_SECONDS", 5)
	run := func(addr string, users []bench.Cred) (float64, string) {
		res, err := bench.RunSMTP(context.Background(), bench.SMTPOptions{Addr: addr, Users: users, Conns: 20,
			Size: 10 << 10, Duration: time.Duration(secs) * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Errors) > 0 {
			b.Fatalf("%s: errors %v %v", addr, res.Errors, res.ErrorSamples)
		}
		return res.AcceptedPerSec, fmt.Sprintf("p50 %.1f ms p99 %.1f ms", res.Total.P50MS, res.Total.P99MS)
	}
	var sumOurs, sumPeer float64
	for r := 0; r < rounds; r++ {
		o, ol := run(e.smtpAddr, ours)
		sumOurs += o
		line := fmt.Sprintf("round %d: schulhof %.0f msg/s (%s)", r+1, o, ol)
		if peer != "" {
			p, pl := run(peer, bench.PatternUsers("testuser%d", 1, 20, "pass", "school.test"))
			sumPeer += p
			line += fmt.Sprintf(", peer %.0f msg/s (%s), ratio %.2f", p, pl, o/p)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.Log(line, fmt.Sprintf(" heap %d MB, %d goroutines", ms.HeapInuse>>20, runtime.NumGoroutine()))
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
