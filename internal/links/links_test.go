package links

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/net/idna"

	"schulhof/policy"
)

func TestHostsInText(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"kein Link hier, nur www und http", nil},
		{"siehe https://Example.COM/pfad?x=1", []string{"example.com"}},
		{"siehe http://example.com.", []string{"example.com"}},
		{"(http://example.com)", []string{"example.com"}},
		{"<https://example.com>", []string{"example.com"}},
		{"\"http://example.com\"", []string{"example.com"}},
		{"geh auf www.Example.org, dann", []string{"www.example.org"}},
		{"WWW.EXAMPLE.ORG!", []string{"www.example.org"}},
		{"awww.example.org x.www.example.org max@www.example.org", nil},
		{"www. und www.", nil},
		{"Dateien auf ftp.Files.example/pub, nicht auf xftp.files.example", []string{"ftp.files.example"}},
		{"http://user:pw@evil.example:8080/x", []string{"user", "evil.example"}},
		{"https://schule.test@evil.example/", []string{"schule.test", "evil.example"}},
		{"http://[2001:db8::1]:80/", []string{"2001:db8::1"}},
		{"http://1.2.3.4/", []string{"1.2.3.4"}},
		{"https://bücher.de/x", []string{"xn--bcher-kva.de"}},
		{"https://xn--bcher-kva.de/x", []string{"xn--bcher-kva.de"}},
		{"https://例え。テスト/", []string{"xn--r8jz45g.xn--zckzah"}},
		{"https://%65vil.example/", []string{"evil.example"}},
		{"https:///evil.example/", []string{"evil.example"}},
		{"https:\\\\evil.example\\x", nil}, // no "://": not linkified in text
		{"ftp://files.example/x smb://nas.example/share", []string{"files.example", "nas.example"}},
		{"https://a.example/r?u=https://b.example/x", []string{"a.example", "b.example"}},
		{"https://a.example/r?u=https%3A%2F%2Fb.example%2Fx", []string{"a.example", "b.example"}},
		{"1http://a.example", []string{"a.example"}},
		{"://a.example", nil},
		{"http://a.example\u00a0@b.example", []string{"a.example"}},
		{"http://a.example http://a.example www.a.example", []string{"a.example", "www.a.example"}},
		{"http://exa mple.com", []string{"exa"}},
		{"http://", nil},
		{"http://-", nil},
		{"mailto:max@example.com", nil},
		{"https://evil\u00ad.example/", []string{"evil", "evil.example"}},
		{"https://ev\u200bil.example/", []string{"ev", "evil.example"}},
		{"www.evil.example\u200bmehr", []string{"www.evil.example", "www.evil.examplemehr"}},
	}
	for _, tt := range tests {
		if got := HostsInText(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("HostsInText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestScannerPieces checks that links across the scanner's piece
// boundaries are found whole, also when written a few bytes at a time.
func TestScannerPieces(t *testing.T) {
	var b strings.Builder
	var want []string
	for i := 0; b.Len() < 5*scanChunk; i++ {
		pad := scanChunk - b.Len()%scanChunk - 7 + i%15 // links straddle the boundaries
		if pad > 0 {
			b.WriteString(strings.Repeat("x", pad))
		}
		h := fmt.Sprintf("h%d.example", i)
		fmt.Fprintf(&b, " https://%s/ ", h)
		want = append(want, h)
	}
	b.WriteString(" www.last.example")
	want = append(want, "www.last.example")
	text := b.String()
	if got := HostsInText(text); !slices.Equal(got, want) {
		t.Fatalf("HostsInText: got %d hosts, want %d", len(got), len(want))
	}
	for _, step := range []int{1, 3, 4096, scanChunk + 1} {
		set := newHostSet(DefaultLimits)
		s := newScanner(set.add)
		for p := text; len(p) > 0; {
			n := min(step, len(p))
			s.Write([]byte(p[:n]))
			p = p[n:]
		}
		s.flush()
		if !slices.Equal(set.list, want) {
			t.Errorf("step %d: got %q, want %q", step, set.list, want)
		}
	}
}

func mail(header, body string) string {
	return strings.ReplaceAll("From: a@schule.test\nTo: b@schule.test\nSubject: Test\n"+header+"\n"+body, "\n", "\r\n")
}

func TestHosts(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want []string
	}{
		{"plain", mail("", "Hallo, siehe https://example.com/x und www.example.org.\n"), []string{"example.com", "www.example.org"}},
		{"no links", mail("", "Hallo!\n"), nil},
		{"header links do not count", mail("List-Unsubscribe: <https://lists.example/u>\n", "Hallo\n"), nil},
		{"quoted-printable", mail("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n",
			"Link: https://ev=\nil.example/=C3=BC und https://b=C3=BCcher.de\n"), []string{"evil.example", "xn--bcher-kva.de"}},
		{"base64", mail("Content-Transfer-Encoding: base64\n", "aHR0cHM6Ly9ldmlsLmV4YW1wbGUvcGF0aA==\n"), []string{"evil.example"}},
		{"latin1", mail("Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n",
			"https://b=FCcher.de/\n"), []string{"xn--bcher-kva.de"}},
		{"unknown charset still scanned", mail("Content-Type: text/plain; charset=x-unknown\n", "https://evil.example/\n"), []string{"evil.example"}},
		{"html", mail("Content-Type: text/html\n", `<html><body>
<a href="https://A.example/x">hier</a> <img src="//b.example/p.png">
<a href=" java&#10;script:void(0)">x</a> <a href="h&#116;tps://c.example">y</a>
<a href="https:\\d.example\x">z</a> <a href="http:e.example">w</a>
<img srcset="f1.png 1x, //f.example/f2.png 2x">
<div style="background:url('//g.example/bg.png')"></div>
<style>p { background: url(https://h.example/x.png) } .q{background:url(//i.example/y)}</style>
<meta http-equiv="refresh" content="0; URL='https://j.example/'">
<form action="https://k.example/post"></form>
<a href="relative/path">rel</a> <a href="#top">top</a> <a href="mailto:max@schule.test">m</a>
<p>Text mit www.l.example und &lt;https://m.example&gt;</p>
<!-- https://comment.example is not shown -->
</body></html>`), []string{"a.example", "b.example", "c.example", "d.example", "e.example", "f.example", "g.example",
			"h.example", "i.example", "j.example", "k.example", "www.l.example", "m.example"}},
		{"html soft hyphen in host", mail("Content-Type: text/html\n", "<a href=\"https://evil&shy;.example/\">x</a>"), []string{"evil", "evil.example"}},
		{"html tab inside scheme", mail("Content-Type: text/html\n", "<a href=\"ht\ttps://n.example/\">x</a>"), []string{"n.example"}},
		{"multipart alternative", mail("MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b1\n", `--b1
Content-Type: text/plain; charset=utf-8

https://plain.example/
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGEgaHJlZj0iaHR0cHM6Ly9odG1sLmV4YW1wbGUvIj54PC9hPg==
--b1--
`), []string{"plain.example", "html.example"}},
		{"nested multipart and attached message", mail("Content-Type: multipart/mixed; boundary=outer\n", `--outer
Content-Type: multipart/related; boundary=inner

--inner
Content-Type: text/html

<a href="https://nested.example/">x</a>
--inner--
--outer
Content-Type: application/pdf
Content-Transfer-Encoding: base64

aHR0cHM6Ly9hdHRhY2htZW50LmV4YW1wbGUv
--outer
Content-Type: message/rfc822

From: x@y.example
Subject: fwd
Content-Type: text/plain

forwarded https://forwarded.example/
--outer--
`), []string{"nested.example", "forwarded.example"}},
		{"text attachment counts", mail("Content-Type: multipart/mixed; boundary=b\n", `--b
Content-Type: text/plain
Content-Disposition: attachment; filename=links.txt

https://attached.example/
--b--
`), []string{"attached.example"}},
		{"unterminated multipart", mail("Content-Type: multipart/mixed; boundary=b\n", `--b
Content-Type: text/plain

https://first.example/
--b
Content-Type: text/html

<a href="https://cut.example/">x</a>`), []string{"first.example", "cut.example"}},
		{"broken part header falls back to raw", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\r\nContent-Type text/plain\r\n\r\nhttps://hidden.example/\r\n--b--\r\n"), []string{"hidden.example"}},
		{"bad content-type is text/plain", mail("Content-Type: ;;;\n", "https://x.example/\n"), []string{"x.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Hosts(strings.NewReader(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			// The same through a reader returning one byte at a time.
			got2, err := Hosts(iotest.OneByteReader(strings.NewReader(tt.msg)))
			slices.Sort(got2)
			if err != nil || !slices.Equal(got2, want) {
				t.Errorf("one byte at a time: got %q, %v", got2, err)
			}
		})
	}
}

func TestHostsLimits(t *testing.T) {
	// Deep nesting.
	var b strings.Builder
	b.WriteString("Subject: deep\r\n")
	for i := range DefaultLimits.MaxDepth + 5 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhttps://deep.example/\r\n")
	if _, err := Hosts(strings.NewReader(b.String())); !errors.Is(err, ErrLimit) {
		t.Errorf("too deep: err = %v, want ErrLimit", err)
	}
	// Many parts.
	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range DefaultLimits.MaxParts + 100 {
		b.WriteString("--b\r\n\r\nx\r\n")
	}
	b.WriteString("--b--\r\n")
	if _, err := Hosts(strings.NewReader(b.String())); !errors.Is(err, ErrLimit) {
		t.Errorf("too many parts: err = %v, want ErrLimit", err)
	}
	// As many as a daemon accepts (policy's mime_parts) are checked.
	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range DefaultLimits.MaxParts - 1 {
		b.WriteString("--b\r\n\r\nx\r\n")
	}
	b.WriteString("--b\r\n\r\nhttps://last.example/\r\n--b--\r\n")
	if hosts, err := Hosts(strings.NewReader(b.String())); err != nil || !slices.Equal(hosts, []string{"last.example"}) {
		t.Errorf("at the part bound: %q, %v", hosts, err)
	}
	// Text budget.
	l := DefaultLimits
	l.MaxTextBytes = 1000
	if _, err := l.Hosts(strings.NewReader(mail("", strings.Repeat("x", 2000)))); !errors.Is(err, ErrLimit) {
		t.Errorf("budget: err = %v, want ErrLimit", err)
	}
	if _, err := l.Hosts(strings.NewReader(mail("", strings.Repeat("x", 900)))); err != nil {
		t.Errorf("within budget: err = %v", err)
	}
	// Normalization work: distinct long Unicode candidates.
	var hostile strings.Builder
	for i := 0; hostile.Len() < 1<<20; i++ {
		fmt.Fprintf(&hostile, "https://%s%d.example/\n", strings.Repeat("ü", 200), i)
	}
	l = DefaultLimits
	l.MaxCandidateBytes = 64 << 10
	if _, err := l.Hosts(strings.NewReader(mail("", hostile.String()))); !errors.Is(err, ErrLimit) {
		t.Errorf("candidate bytes: err = %v, want ErrLimit", err)
	}
	// Hosts.
	l = DefaultLimits
	l.MaxHosts = 3
	hosts, err := l.Hosts(strings.NewReader(mail("", "www.a.example www.b.example www.c.example www.d.example")))
	if !errors.Is(err, ErrLimit) || len(hosts) != 3 {
		t.Errorf("max hosts: %q, %v", hosts, err)
	}
}

func TestHostsReadError(t *testing.T) {
	boom := errors.New("boom")
	r := iotest.ErrReader(boom)
	if _, err := Hosts(r); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
}

// TestNormalizeMatchesIDNA checks policy's own punycode against x/net/idna
// for the hosts links produce.
func TestNormalizeMatchesIDNA(t *testing.T) {
	for _, h := range []string{"bücher.de", "straße.de", "ελλάδα.gr", "россия.рф", "日本語.jp", "Ünïcödé.example", "xn--bcher-kva.de",
		"evil\u00ad.example", "evil\u200b.example", "evil\ufeff.example", "ev\u034fil.example", "EVİL.example", "ＥＶＩＬ.example", "e\u0301vil.example"} {
		got, ok := policy.NormalizeDomain(h)
		want, err := idna.Lookup.ToASCII(h)
		if err != nil {
			t.Fatalf("idna(%q): %v", h, err)
		}
		if h == "straße.de" {
			want = "xn--strae-oqa.de" // IDNA2008 keeps ß; x/net's Lookup profile agrees
		}
		if !ok || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; idna says %q", h, got, ok, want)
		}
	}
}

func FuzzHostsInText(f *testing.F) {
	for _, s := range []string{"https://example.com/", "www.example.org.", "http://u@h.example:1/", "https://a/?u=https%3A%2F%2Fb.example",
		"http://[::1]/", "https://例え。テスト/", "\xff://\xfe", "www.\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts := HostsInText(s)
		checkHosts(t, hosts)
		// Streaming in small pieces must not find fewer hosts.
		set := newHostSet(DefaultLimits)
		sc := newScanner(set.add)
		for p := []byte(s); len(p) > 0; p = p[min(3, len(p)):] {
			sc.Write(p[:min(3, len(p))])
		}
		sc.flush()
		if !slices.Equal(set.list, hosts) {
			t.Errorf("streamed %q != %q", set.list, hosts)
		}
	})
}

func FuzzHosts(f *testing.F) {
	f.Add([]byte(mail("", "https://example.com/")))
	f.Add([]byte(mail("Content-Type: text/html\n", `<a href="//x.example">x</a>`)))
	f.Add([]byte(mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naHR0cHM6Ly9ldmlsLmV4YW1wbGUv\n--b--\n")))
	f.Add([]byte(mail("Content-Type: message/rfc822\n", "Content-Type: text/plain\n\nwww.inner.example\n")))
	f.Add([]byte("no header at all http://x.example"))
	f.Add([]byte(""))
	for _, h := range hiding {
		f.Add([]byte(h.msg))
	}
	for _, m := range legitimate {
		f.Add([]byte(m.msg))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		l := DefaultLimits
		l.MaxTextBytes = 1 << 20
		hosts, err := l.Hosts(bytes.NewReader(msg))
		if err != nil && !errors.Is(err, ErrLimit) {
			t.Fatalf("unexpected error %v", err)
		}
		checkHosts(t, hosts)
		// A stream read once (the raw scan tees) finds the same hosts.
		streamed, err2 := l.Hosts(iotest.HalfReader(bytes.NewReader(msg)))
		if err == nil && err2 == nil {
			a, b := slices.Sorted(slices.Values(hosts)), slices.Sorted(slices.Values(streamed))
			if !slices.Equal(a, b) {
				t.Errorf("seekable %q, streamed %q", a, b)
			}
		}
	})
}

// checkHosts: every host is normalized and appears once.
func checkHosts(t *testing.T, hosts []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, h := range hosts {
		if n, ok := policy.NormalizeDomain(h); !ok || n != h {
			t.Errorf("host %q is not normalized (%q, %v)", h, n, ok)
		}
		if seen[h] {
			t.Errorf("host %q twice", h)
		}
		seen[h] = true
	}
}
