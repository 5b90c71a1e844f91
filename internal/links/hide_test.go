package links

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"

	gotextproto "github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"schulhof/policy"
)

// blockedForTest is the block list of the hiding and corpus tests.
var blockedForTest = func() []string {
	var out []string
	for _, d := range []string{"evil.example", "casino.example", "bücher.example"} {
		n, _ := policy.NormalizeDomain(d)
		out = append(out, n)
	}
	return out
}()

// b64 encodes s as a mailer does, in lines of 76.
func b64(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	return b.String() + enc + "\r\n"
}

// qp encodes s as quoted-printable.
func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// utf7All encodes every character of s in UTF-7's base64 form, which RFC
// 2152 allows for ASCII too: nothing of the link is left readable.
func utf7All(s string) string {
	var raw []byte
	for _, u := range utf16.Encode([]rune(s)) {
		raw = append(raw, byte(u>>8), byte(u))
	}
	return "+" + strings.TrimRight(base64.StdEncoding.EncodeToString(raw), "=") + "-"
}

func utf16BE(s string, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xfe, 0xff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

// yenc encodes s as yEnc does: every byte shifted by 42, the critical
// ones escaped.
func yenc(s string) string {
	var b []byte
	for _, c := range []byte(s) {
		o := c + 42
		if o == 0 || o == '\n' || o == '\r' || o == '=' {
			b = append(b, '=', o+64)
			continue
		}
		b = append(b, o)
	}
	return string(b)
}

func latin1(s string) string { out, _ := charmap.ISO8859_1.NewEncoder().String(s); return out }

// hiding lists messages that each hide a blocked link one way a client
// still shows (or follows). Every one must be caught.
var hiding = []struct{ name, msg string }{
	// Transfer encodings, decoded as lenient clients do.
	{"base64 with a stray character", mail("Content-Transfer-Encoding: base64\n", "aHR0cHM6Ly9ld*mlsLmV4YW1wbGUveA==\n")},
	{"base64 with stray characters everywhere", mail("Content-Transfer-Encoding: base64\n", "a.H!R0 cH\tM6Ly9ldm$lsLmV4Y%W1wbGUveA==\n")},
	{"base64 padded per line", mail("Content-Transfer-Encoding: base64\n",
		base64.StdEncoding.EncodeToString([]byte("Siehe: "))+"\n"+base64.StdEncoding.EncodeToString([]byte("https://evil.example/x"))+"\n")},
	{"base64 upper case", mail("Content-Transfer-Encoding: BASE64\n", b64("https://evil.example/"))},
	{"base64 with blanks and a comment", mail("Content-Transfer-Encoding:  Base64 (binary)\n", b64("https://evil.example/"))},
	{"base64 html", mail("Content-Type: text/html\nContent-Transfer-Encoding: base64\n", "PGEgaHJlZj0iaHR0cHM6Ly9ldmlsLm!V4YW1wbGUvIj5LbGljazwvYT4=\n")},
	{"quoted-printable bad escape before", mail("Content-Transfer-Encoding: quoted-printable\n", "100=% sicher =ZZ https://evil=2Eexample/\n")},
	{"quoted-printable lower-case hex", mail("Content-Transfer-Encoding: quoted-printable\n", "https://evil=2eexample/\n")},
	{"quoted-printable control byte", mail("Content-Transfer-Encoding: quoted-printable\n", "x\x1b y https://ev=\nil.example/\n")},
	{"quoted-printable long line", mail("Content-Transfer-Encoding: quoted-printable\n", strings.Repeat("a", 5000)+" https://evil=2Eexample/\n")},
	{"quoted-printable junk after soft break", mail("Content-Transfer-Encoding: quoted-printable\n", "Text= x\nhttps://evil=2Eexample/\n")},
	{"quoted-printable soft break with blanks", mail("Content-Transfer-Encoding: Quoted-Printable\n", "https://ev= \t\nil.example/\n")},
	{"x-uuencode", mail("Content-Transfer-Encoding: x-uuencode\n", "begin 644 link.txt\n6:'1T<',Z+R]E=FEL+F5X86UP;&4O>   \n`\nend\n")},
	{"x-yencode", mail("Content-Transfer-Encoding: x-yencode\n", "=ybegin line=128 size=22 name=link.txt\n"+yenc("https://evil.example/x")+"\n=yend size=22\n")},
	// Charsets.
	{"utf-7", mail("Content-Type: text/plain; charset=utf-7\n", "Siehe "+utf7All("https://evil.example/")+" hier\n")},
	{"utf-7 alias in quotes", mail("Content-Type: text/plain; charset=\"UNICODE-1-1-UTF-7\"\n", utf7All("https://evil.example/")+"\n")},
	{"utf-7 html", mail("Content-Type: text/html; charset=utf-7\n", "+ADw-a href=+ACI-"+utf7All("https://evil.example")+"+ACI-+AD4-x+ADw-/a+AD4-\n")},
	{"utf-7 with a broken parameter list", mail("Content-Type: text/plain; charset=utf-7; format\n", utf7All("https://evil.example/")+"\n")},
	{"utf-16 with bom", mail("Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n", b64(utf16BE("https://evil.example/", true)))},
	{"utf-16 bom, no charset", mail("Content-Transfer-Encoding: base64\n", b64(utf16BE("https://evil.example/", true)))},
	{"utf-16 bom, wrong charset", mail("Content-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: base64\n",
		b64(utf16BE(`<a href="https://evil.example/">x</a>`, true)))},
	{"utf-16le label", mail("Content-Type: text/plain; charset=UTF-16LE\nContent-Transfer-Encoding: base64\n",
		b64(string(func() []byte {
			var b []byte
			for _, u := range utf16.Encode([]rune("https://evil.example/")) {
				b = append(b, byte(u), byte(u>>8))
			}
			return b
		}())))},
	{"ascii labelled utf-16", mail("Content-Type: text/plain; charset=utf-16be\n", "https://evil.example/\n")},
	{"latin1 idn", mail("Content-Type: text/plain; charset=iso-8859-1\n", latin1("https://bücher.example/\n"))},
	{"latin1 idn, no charset", mail("", latin1("https://bücher.example/\n"))},
	{"latin1 idn, unknown charset", mail("Content-Type: text/plain; charset=x-westlich\n", latin1("https://bücher.example/\n"))},
	{"latin1 label latin1", mail("Content-Type: text/plain; charset=latin1\n", latin1("https://bücher.example/\n"))},
	{"iso-2022-jp escapes inside the link", mail("Content-Type: text/plain; charset=iso-2022-jp\n", "https://evil\x1b(B.example/\n")},
	{"meta charset utf-7", mail("Content-Type: text/html\n", "<meta charset=utf-7><p>"+utf7All("https://evil.example/")+"</p>\n")},
	// Parts a client renders.
	{"unknown text subtype", mail("Content-Type: text/x-unbekannt\n", "https://evil.example/\n")},
	{"text/enriched", mail("Content-Type: text/enriched\n", "<bold>https://evil.example/</bold>\n")},
	{"text/markdown base64", mail("Content-Type: text/markdown; charset=utf-8\nContent-Transfer-Encoding: base64\n", b64("[hier](https://evil.example/)"))},
	{"xhtml", mail("Content-Type: application/xhtml+xml\n", `<html xmlns="http://www.w3.org/1999/xhtml"><a href="//evil.example/">x</a></html>`)},
	{"html attachment by name", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: text/plain\n\nim Anhang\n--b\n"+
		"Content-Type: application/octet-stream; name=seite.html\nContent-Disposition: attachment; filename=\"seite.html\"\nContent-Transfer-Encoding: base64\n\n"+
		b64(`<a href="//evil.example/">x</a>`)+"--b--\n")},
	{"rtf body", mail("Content-Type: application/rtf\n", `{\rtf1{\field{\*\fldinst HYPERLINK "https://evil.example/"}{\fldrslt Klick}}}`)},
	{"encoded file name", mail("Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"=?utf-8?q?Seite=2Ehtml?=\"\n", `<a href="//evil.example/">x</a>`)},
	{"text part named .html", mail("Content-Type: text/plain; name=seite.html\n", `<a href="//evil.example/">x</a>`)},
	{"duplicate content-type", mail("Content-Type: application/octet-stream\nContent-Type: text/plain\n", "https://evil.example/\n")},
	{"multipart without boundary", mail("Content-Type: multipart/mixed\n", "https://evil.example/\n")},
	{"multipart/digest default type", mail("Content-Type: multipart/digest; boundary=d\n", "--d\n\nContent-Type: text/html\n\n<a href=\"https://evil.example/\">x</a>\n--d--\n")},
	{"html inside an attached message", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: text/plain\n\nweitergeleitet\n--b\n"+
		"Content-Type: message/rfc822\nContent-Disposition: attachment; filename=fwd.eml\n\n"+
		"From: x@y.example\nContent-Type: multipart/alternative; boundary=c\n\n--c\nContent-Type: text/plain\n\nsiehe HTML\n--c\n"+
		"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n<a href=3D\"https://evil.example/\">x</a>\n--c--\n--b--\n")},
	{"base64 attached message", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"+
		b64("Content-Type: text/html\r\n\r\n<a href=\"https://evil.example/\">x</a>\r\n")+"--b--\n")},
	{"eml attachment", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: application/octet-stream; name=\"alt.eml\"\n\n"+
		"Subject: alt\nContent-Type: text/plain\n\nhttps://evil.example/\n--b--\n")},
	// Damaged headers: clients skip a line without a colon and go on.
	{"bad line before the encoding", mail("X-Kaputt\nContent-Transfer-Encoding: base64\n", b64("https://evil.example/"))},
	{"bad part header line", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: text/html\nkein Feld\n"+
		"Content-Transfer-Encoding: base64\n\n"+b64(`<a href="//evil.example/">x</a>`)+"--b--\n")},
	{"bad field name in an attached message", mail("Content-Type: message/rfc822\n", "Sub ject: x\nContent-Transfer-Encoding: quoted-printable\n\nhttps://evil=2Eexample/\n")},
	// format=flowed.
	{"flowed delsp across the host", mail("Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n", "Siehe https://ev \nil.example/ hier\n")},
	{"flowed delsp quoted", mail("Content-Type: text/plain; format=Flowed; DelSp=Yes\n", "> Siehe https://ev \n> il.example/\n")},
	{"flowed delsp quoted-printable", mail("Content-Type: text/plain; format=flowed; delsp=yes\nContent-Transfer-Encoding: quoted-printable\n", "https://evil.ex=20\nample/\n")},
	{"flowed delsp stuffed", mail("Content-Type: text/plain; format=flowed; delsp=yes\n", "Siehe https://evil. \n example/\n")},
	// HTML.
	{"mso conditional comment", mail("Content-Type: text/html\n", "<p>Hallo</p><!--[if mso]><a href=\"https://evil.example/\">nur Outlook</a><![endif]-->\n")},
	{"mso conditional comment, vml", mail("Content-Type: text/html\n", "<!--[if gte mso 9]><v:roundrect href=\"https://evil.example/\"><v:textbox>Klick</v:textbox></v:roundrect><![endif]-->")},
	{"mso conditional text", mail("Content-Type: text/html\n", "<!--[if mso]>www.evil.example<![endif]-->")},
	{"noscript", mail("Content-Type: text/html\n", `<noscript><a href="//evil.example/">ohne Skripte</a></noscript>`)},
	{"noframes", mail("Content-Type: text/html\n", `<noframes><a href="http:evil.example">x</a></noframes>`)},
	{"entity in href", mail("Content-Type: text/html\n", `<a href="https://evil&#46;example/">x</a>`)},
	{"named entities in href", mail("Content-Type: text/html\n", `<a href="&#x68;ttps&colon;&sol;&sol;evil&period;example/">x</a>`)},
	{"entity in text", mail("Content-Type: text/html\n", `<p>https://evil&#x2E;example/</p>`)},
	{"tab entity in the scheme", mail("Content-Type: text/html\n", `<a href="ht&#9;tps://evil.example/">x</a>`)},
	{"link split by inline tags", mail("Content-Type: text/html\n", `<p>https://evil<span></span>.example/</p>`)},
	{"www link split by bold", mail("Content-Type: text/html\n", `<p>www.<b>evil</b>.example</p>`)},
	{"link split by an unknown tag", mail("Content-Type: text/html\n", `<p>https://evil<x-y>.exa</x-y>mple/</p>`)},
	{"link split by a comment", mail("Content-Type: text/html\n", `<p>https://evil<!-- -->.example/</p>`)},
	{"href with newlines", mail("Content-Type: text/html\n", "<a\nhref\n=\n\"\n  https://evil\n.example/\n\">x</a>")},
	{"href with tabs in the host", mail("Content-Type: text/html\n", "<a href=\"https://ev\til.exa\r\nmple/\">x</a>")},
	{"href one slash", mail("Content-Type: text/html\n", `<a href="https:/evil.example/">x</a>`)},
	{"bare link after a tag", mail("Content-Type: text/html\n", `<b>Hier:</b>www.evil.example`)},
}

func TestHidingPlacesAreCaught(t *testing.T) {
	for _, tt := range hiding {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct {
				how  string
				read func() ([]string, error)
			}{
				{"seekable", func() ([]string, error) { return Hosts(strings.NewReader(tt.msg)) }},
				{"one byte at a time", func() ([]string, error) { return Hosts(iotest.OneByteReader(strings.NewReader(tt.msg))) }},
			} {
				hosts, err := r.read()
				if err != nil {
					t.Fatalf("%s: %v", r.how, err)
				}
				if d := policy.CheckLinks(hosts, blockedForTest); d.Allow {
					t.Errorf("%s: not caught; hosts %q", r.how, hosts)
				}
			}
		})
	}
}

// legitimate is a corpus of ordinary school mail, the way Thunderbird,
// Outlook, Apple Mail and web mailers write it. None may be blocked, and
// each must still show its real links.
var legitimate = []struct {
	name string
	msg  string
	want []string // hosts that must be found
}{
	{"plain", mail("Content-Type: text/plain; charset=utf-8\n", "Liebe Eltern,\nder Plan steht auf https://www.schule.test/plan.\nGrüße\n"), []string{"www.schule.test"}},
	{"thunderbird flowed", mail("Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n",
		"Hallo Klasse 7b,\n\nbitte lest bis Freitag den Text auf \nhttps://lernen.schule.test/deutsch/kapitel-3 und bringt \nFragen mit.\n\n-- \nFrau Lehrer\n"),
		[]string{"lernen.schule.test"}},
	{"flowed delsp with a long link", mail("Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n",
		"Die Seite https://www.schule.test/ \naktuelles ist neu. Auch notevil.example? Nein: \nhttps://notevil.example/ ist erlaubt.\n"),
		[]string{"www.schule.test", "notevil.example"}},
	{"outlook html", mail("MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"_000_\"\n", `--_000_
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Sehr geehrte Damen und Herren,
anbei der Link: https://portal.schule.test/elternabend
Mit freundlichen Gr=FC=DFen

--_000_
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

<html xmlns:v=3D"urn:schemas-microsoft-com:vml" xmlns:o=3D"urn:schemas-micr=
osoft-com:office:office"><head><meta http-equiv=3D"Content-Type" content=3D=
"text/html; charset=3Diso-8859-1"><!--[if gte mso 9]><xml><o:shapedefaults=
 v:ext=3D"edit" spidmax=3D"1026" /></xml><![endif]--></head><body lang=3D"DE">
<p class=3D"MsoNormal">Sehr geehrte Damen und Herren,<o:p></o:p></p>
<p class=3D"MsoNormal">anbei der Link: <a href=3D"https://portal.schule.tes=
t/elternabend">https://portal.schule.test/elternabend</a><o:p></o:p></p>
<p class=3D"MsoNormal">Mit freundlichen Gr=FC=DFen<o:p></o:p></p>
</body></html>

--_000_--
`), []string{"portal.schule.test"}},
	{"newsletter html", mail("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n", b64(`<!DOCTYPE html><html><head>
<style>.btn{background:url(https://cdn.schule.test/btn.png)}</style></head><body>
<!--[if mso]><table><tr><td><a href="https://www.schule.test/anmeldung">Anmelden</a></td></tr></table><![endif]-->
<!--[if !mso]><!--><a class="btn" href="https://www.schule.test/anmeldung">Anmelden</a><!--<![endif]-->
<p>Fragen? Schreibt an <a href="mailto:info@schule.test">info@schule.test</a> &amp; besucht <b>www.schule.test</b>.</p>
<p>Die <i>Evil</i>-Examples-AG trifft sich donnerstags. <span>evil</span>.example ist kein Link.</p>
<img src="cid:logo@schule.test" alt="Logo">
</body></html>`)), []string{"cdn.schule.test", "www.schule.test"}},
	{"latin1 umlauts", mail("Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n",
		"Die B=FCcher f=FCr die Klasse: https://b=FCcherei.schule.test/\n"), []string{"xn--bcherei-n2a.schule.test"}},
	{"undeclared 8-bit", mail("", latin1("Grüße aus der Bücherei: www.schule.test\n")), []string{"www.schule.test"}},
	{"utf-16 text", mail("Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n", b64(utf16BE("Hausaufgaben: https://lernen.schule.test/mathe\n", true))),
		[]string{"lernen.schule.test"}},
	{"japanese iso-2022-jp", mail("Content-Type: text/plain; charset=iso-2022-jp\n", func() string {
		s, _ := japanese.ISO2022JP.NewEncoder().String("こんにちは https://www.schule.test/ja\n")
		return s
	}()), []string{"www.schule.test"}},
	{"utf-7 legit", mail("Content-Type: text/plain; charset=utf-7\n", "Gr+APw-+AN8-e: https://www.schule.test/\n"), []string{"www.schule.test"}},
	{"attachments are not text", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: text/plain\n\nim Anhang\n--b\n"+
		"Content-Type: application/pdf; name=\"evil.example.pdf\"\nContent-Transfer-Encoding: base64\n\n"+b64("%PDF-1.4 https://evil.example/")+
		"--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n"+b64("\x89PNG https://casino.example/")+"--b--\n"), nil},
	{"forwarded message", mail("Content-Type: multipart/mixed; boundary=b\n", "--b\nContent-Type: text/plain\n\nzur Info\n--b\nContent-Type: message/rfc822\n\n"+
		"From: sekretariat@schule.test\nSubject: Termine\nContent-Type: text/html\n\n<a href=\"https://www.schule.test/termine\">Termine</a>\n--b--\n"),
		[]string{"www.schule.test"}},
	{"calendar invitation", mail("Content-Type: text/calendar; method=REQUEST; charset=utf-8\n", "BEGIN:VCALENDAR\nURL:https://kalender.schule.test/e/1\nEND:VCALENDAR\n"),
		[]string{"kalender.schule.test"}},
}

func TestLegitimateMailNotBlocked(t *testing.T) {
	for _, tt := range legitimate {
		t.Run(tt.name, func(t *testing.T) {
			hosts, err := Hosts(strings.NewReader(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			if d := policy.CheckLinks(hosts, blockedForTest); !d.Allow {
				t.Errorf("falsely blocked: %s; hosts %q", d, hosts)
			}
			for _, w := range tt.want {
				found := false
				for _, h := range hosts {
					found = found || h == w
				}
				if !found {
					t.Errorf("link to %s not found; hosts %q", w, hosts)
				}
			}
		})
	}
}

// TestUTF7 checks the decoder against RFC 2152's examples.
func TestUTF7(t *testing.T) {
	for in, want := range map[string]string{
		"Hi Mom -+Jjo--!":          "Hi Mom -\u263a-!",
		"A+ImIDkQ.":                "A\u2262\u0391.",
		"+ZeVnLIqe-":               "\u65e5\u672c\u8a9e",
		"1 +- 1 = 2":               "1 + 1 = 2",
		"+2D3eAQ-":                 "\U0001f601",
		"+2D3-x":                   "\ufffdx", // a lone high surrogate
		"+AGgAdAB0AHAAcwA6AC8ALw-": "https://",
		"open +AGg":                "open h",
	} {
		got, err := utf7.NewDecoder().String(in)
		if err != nil || got != want {
			t.Errorf("utf7(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestTransferDecoders: the lenient decoders agree with the standard ones
// on well-formed input, whatever the piece sizes.
func TestTransferDecoders(t *testing.T) {
	var text strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&text, "Zeile %d: äöü = https://x%d.example/ \t\r\n", i, i)
	}
	src := text.String()
	for _, c := range []struct{ enc, body string }{{"base64", b64(src)}, {"quoted-printable", qp(src)}} {
		var out bytes.Buffer
		if _, err := out.ReadFrom(iotest.HalfReader(transferReader(c.enc, strings.NewReader(c.body)))); err != nil {
			t.Fatal(err)
		}
		if out.String() != src {
			t.Errorf("%s: decoded text differs (%d bytes, want %d)", c.enc, out.Len(), len(src))
		}
	}
}

// FuzzDecoders: the lenient decoders accept anything (in any piece
// sizes), give valid UTF-8 where they decode a charset, and agree with the
// standard library wherever that accepts the input.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{"aHR0cHM6Ly9ld*mlsLmV4YW1wbGUveA==", "a=\r\nb=3D=ZZ=", "+AGgAdAB0AHAAcw-://x", "+2D3-", "= \t", "=\r", "\xff\xfe",
		"begin 644 x\n6:'1T<',Z+R]E=FEL+F5X86UP;&4O>\n`\nend\n", "=ybegin\n\x92\x9e=}\n=yend\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		read := func(r io.Reader) []byte {
			out, err := io.ReadAll(iotest.OneByteReader(r))
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		b64 := read(transferReader("base64", bytes.NewReader(in)))
		if want, err := base64.StdEncoding.DecodeString(string(in)); err == nil && !bytes.Equal(b64, want) {
			t.Errorf("base64 %q: %q, want %q", in, b64, want)
		}
		q := read(transferReader("quoted-printable", bytes.NewReader(in)))
		// (Blanks at line ends are kept here, unlike the standard decoder:
		// with format=flowed they make a soft break, and keeping them
		// only joins more.)
		if want, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(in))); err == nil && !bytes.Equal(trimLineEnds(q), trimLineEnds(want)) {
			t.Errorf("quoted-printable %q: %q, want %q", in, q, want)
		}
		read(transferReader("x-uuencode", bytes.NewReader(in)))
		read(transferReader("x-yencode", bytes.NewReader(in)))
		for _, dec := range []transform.Transformer{utf7.NewDecoder(), &fallbackDecoder{}} {
			out := read(transform.NewReader(bytes.NewReader(in), dec))
			if !utf8.Valid(out) {
				t.Errorf("%T(%q) = %q: not UTF-8", dec, in, out)
			}
		}
		var flowed bytes.Buffer
		fw := newFlowedWriter(&flowed, true)
		for _, c := range in {
			fw.Write([]byte{c})
		}
	})
}

// trimLineEnds drops blanks before line ends (and CRs).
func trimLineEnds(b []byte) []byte {
	lines := bytes.Split(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimRight(l, " \t")
	}
	return bytes.Join(lines, []byte("\n"))
}

// TestPartSplitter: parts come out as go-message's multipart reader reads
// them (up to the line end before each delimiter), in any piece sizes.
func TestPartSplitter(t *testing.T) {
	long := strings.Repeat("x", 10000)
	for _, body := range []string{
		"preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--bb\r\n--b \r\n\r\nthree\r\n--b--\r\nepilogue\r\n",
		"--b\n\n" + long + "\n--b\n\n--b-- \n",
		"--b\r\n\r\n" + strings.Repeat("line\r\n", 3000) + "x--b\r\n--b--",
		"--b\r\n\r\nno end",
	} {
		var want []string
		mr := gotextproto.NewMultipartReader(strings.NewReader(body), "b")
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			want = append(want, string(b))
		}
		sp := newPartSplitter(iotest.HalfReader(strings.NewReader(body)), "b")
		var got []string
		for sp.next() {
			br := bufio.NewReader(sp)
			readHeader(br)
			b, _ := io.ReadAll(iotest.OneByteReader(br))
			got = append(got, strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
		}
		if len(got) != len(want) {
			t.Errorf("%.30q: %d parts, want %d", body, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%.30q part %d: %.40q, want %.40q", body, i, got[i], want[i])
			}
		}
	}
}

// TestStream: a message written in pieces gives what Hosts gives.
func TestStream(t *testing.T) {
	var msgs []string
	for _, h := range hiding {
		msgs = append(msgs, h.msg)
	}
	for _, m := range legitimate {
		msgs = append(msgs, m.msg)
	}
	for i, msg := range msgs {
		want, werr := Hosts(strings.NewReader(msg))
		s := DefaultLimits.Stream()
		for p := msg; len(p) > 0; {
			n := min(len(p), 1+i%7)
			s.Write([]byte(p[:n]))
			p = p[n:]
		}
		got, err := s.Finish()
		slices.Sort(got)
		slices.Sort(want)
		if err != werr || !slices.Equal(got, want) {
			t.Errorf("message %d: %q, %v; Hosts: %q, %v", i, got, err, want, werr)
		}
	}
}
