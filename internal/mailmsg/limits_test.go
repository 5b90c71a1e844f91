package mailmsg

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// manyParts is a multipart/mixed with n empty parts (7 bytes each).
func manyParts(n int) string {
	return "From: a@schule.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		strings.Repeat("--b\r\n\r\n", n) + "--b--\r\n"
}

// nested is depth multiparts inside each other.
func nested(depth int) string {
	var b strings.Builder
	b.WriteString("Subject: deep\r\n")
	for i := 0; i < depth; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=b" + strings.Repeat("x", i) + "\r\n\r\n--b" + strings.Repeat("x", i) + "\r\n")
	}
	b.WriteString("\r\ninnermost\r\n")
	return b.String()
}

func TestParseLimitedBounds(t *testing.T) {
	lim := Limits{Parts: 10, Depth: 3}
	if _, err := ParseLimited(strings.NewReader(manyParts(9)), lim); err != nil {
		t.Fatalf("root and 9 parts: %v", err)
	}
	_, err := ParseLimited(strings.NewReader(manyParts(10)), lim)
	var le *LimitError
	if !errors.As(err, &le) || le.Bound != "parts" || le.N != 11 {
		t.Fatalf("root and 10 parts: %v", err)
	}
	if _, err := ParseLimited(strings.NewReader(nested(3)), lim); err != nil {
		t.Fatalf("depth 3: %v", err)
	}
	if _, err := ParseLimited(strings.NewReader(nested(4)), lim); !errors.As(err, &le) || le.Bound != "depth" {
		t.Fatalf("depth 4: %v", err)
	}
	// attached messages count as parts and as depth
	rfc := "Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ny\r\n"
	if _, err := ParseLimited(strings.NewReader(rfc), Limits{Depth: 2}); !errors.As(err, &le) || le.Bound != "depth" {
		t.Fatalf("rfc822 depth: %v", err)
	}
	// the top header
	hdr := "From: a@schule.test\r\nX: " + strings.Repeat("h", 200) + "\r\n\r\nbody\r\n"
	if _, err := ParseLimited(strings.NewReader(hdr), Limits{HeaderBytes: 100}); !errors.As(err, &le) || le.Bound != "header" {
		t.Fatalf("header over the bound: %v", err)
	}
	if _, err := ParseLimited(strings.NewReader(hdr), Limits{HeaderBytes: 1000}); err != nil {
		t.Fatalf("header within the bound: %v", err)
	}
	// every part's header, in a multipart and in an attached message,
	// with the fields' bytes as sent (folded lines included)
	big := "X: " + strings.Repeat("h", 100) + "\r\n" + strings.Repeat(" "+strings.Repeat("f", 50)+"\r\n", 4)
	for name, msg := range map[string]string{
		"multipart part": "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nok\r\n--b\r\n" + big + "\r\nbody\r\n--b--\r\n",
		"rfc822 header":  "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n" + big + "\r\nbody\r\n",
	} {
		if _, err := ParseLimited(strings.NewReader(msg), Limits{HeaderBytes: 1000, PartHeaderBytes: 300}); !errors.As(err, &le) || le.Bound != "header" || le.N < 300 {
			t.Errorf("%s over the bound: %v", name, err)
		}
		if _, err := ParseLimited(strings.NewReader(msg), Limits{HeaderBytes: 1000, PartHeaderBytes: 400}); err != nil {
			t.Errorf("%s within the bound: %v", name, err)
		}
		if _, err := ParseLimited(strings.NewReader(msg), Limits{HeaderBytes: 300}); err != nil {
			t.Errorf("%s without a part bound: %v", name, err)
		}
	}
	// Parse stays forgiving: the summary up to the limit, no error
	s, err := Parse(strings.NewReader(manyParts(DefaultLimits.Parts + 5)))
	if err != nil || len(s.Body.Children) != DefaultLimits.Parts-1 || s.Size != int64(len(manyParts(DefaultLimits.Parts+5))) {
		t.Fatalf("Parse over the limit: %v, %d children", err, len(s.Body.Children))
	}
}

// A 7 MB message of a million empty parts is refused at the part limit
// without keeping (or even allocating) anything per part beyond it.
func TestMillionPartsCostLittle(t *testing.T) {
	msg := manyParts(1_000_000)
	if len(msg) < 7_000_000 {
		t.Fatalf("message only %d bytes", len(msg))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := ParseLimited(strings.NewReader(msg), DefaultLimits)
	runtime.ReadMemStats(&after)
	var le *LimitError
	if !errors.As(err, &le) || le.Bound != "parts" {
		t.Fatalf("a million parts: %v", err)
	}
	if s.Size != int64(len(msg)) {
		t.Fatalf("size %d of %d: the rest was not read", s.Size, len(msg))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("a million empty parts allocated %d MB", alloc>>20)
	}
	runtime.KeepAlive(s)
}

func BenchmarkParseMillionParts(b *testing.B) {
	msg := manyParts(1_000_000)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		ParseLimited(strings.NewReader(msg), DefaultLimits)
	}
}
