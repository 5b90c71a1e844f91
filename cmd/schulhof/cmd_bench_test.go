package main

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"schulhof/internal/bench"
	"schulhof/internal/config"
)

func TestBenchFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "imap", "--help"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "--clients") && !strings.Contains(out.String(), "-clients") {
		t.Fatalf("help: code %d\n%s%s", code, out.String(), errb.String())
	}
	for _, args := range [][]string{
		{"bench", "smtp", "--tls", "bogus"},
		{"bench", "smtp", "--users", "9..1"},
		{"bench", "imap", "stray"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(args, nil, &out, &errb); code != 2 {
			t.Errorf("%v: code %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

func TestBenchUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	var out, errb bytes.Buffer
	code := run([]string{"bench", "smtp", "--addr", addr, "--domain", "school.test", "--users", "1..2", "--conns", "2", "--messages", "1"}, nil, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "authenticate") {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
}

func TestDefaultBenchAddr(t *testing.T) {
	cfg := config.Default()
	cfg.Listen.IMAP, cfg.Listen.Submissions = ":2143", "127.0.0.2:2465"
	if got := defaultBenchAddr(cfg, "bench imap", bench.TLSNone); got != "127.0.0.1:2143" {
		t.Errorf("imap default %q", got)
	}
	if got := defaultBenchAddr(cfg, "bench smtp", bench.TLSImplicit); got != "127.0.0.2:2465" {
		t.Errorf("smtps default %q", got)
	}
}
