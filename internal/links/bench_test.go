package links

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func benchMessage(attachment int) string {
	var b strings.Builder
	b.WriteString("From: a@schule.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n")
	for range 200 {
		b.WriteString(`<p>Hallo, siehe <a href="https://www.example.org/seite">hier</a> und www.schule.test.</p>` + "\r\n")
	}
	b.WriteString("--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	raw := make([]byte, attachment)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return b.String()
}

func benchHosts(b *testing.B, msg string) {
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Hosts(strings.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostsSmall: a typical HTML mail of 18 KB.
func BenchmarkHostsSmall(b *testing.B) { benchHosts(b, benchMessage(0)) }

// BenchmarkHostsAttachment: the same with a 15 MB attachment (not scanned).
func BenchmarkHostsAttachment(b *testing.B) { benchHosts(b, benchMessage(15<<20)) }

// BenchmarkHostsHostile: 20 MB of distinct, long Unicode link candidates,
// the most expensive text to normalize; ends at MaxCandidateBytes.
func BenchmarkHostsHostile(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Subject: x\r\n\r\n")
	for i := 0; sb.Len() < 20<<20; i++ {
		fmt.Fprintf(&sb, "https://%s%d.example/\r\n", strings.Repeat("语", 60), i)
	}
	msg := sb.String()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Hosts(strings.NewReader(msg)); !errors.Is(err, ErrLimit) {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostsManyParts: 5,000 tiny parts (a message within mime_parts).
func BenchmarkHostsManyParts(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range 5000 {
		sb.WriteString("--b\r\n\r\nx\r\n")
	}
	sb.WriteString("--b--\r\n")
	benchHosts(b, sb.String())
}
