package links

import (
	"encoding/base64"
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
