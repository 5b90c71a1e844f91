// Package bench owns Schulhof's load generators: an SMTP submission load
// (RunSMTP, smtp.go) and a mixed IMAP client load (RunIMAP, imap.go), with
// their statistics (stats.go). They are pure clients of the standard
// protocols, so the same load runs against Schulhof and against the peer
// servers it is compared with (Postfix, Dovecot). Nothing here knows
// Schulhof's store: users must exist on the server under test.
package bench

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how a client secures its connection.
type TLSMode string

const (
	TLSNone     TLSMode = "none"     // plain TCP (loopback peers)
	TLSStartTLS TLSMode = "starttls" // plain, then STARTTLS
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (465, 993)
)

// ParseTLSMode checks a --tls value.
func ParseTLSMode(s string) (TLSMode, error) {
	switch m := TLSMode(s); m {
	case TLSNone, TLSStartTLS, TLSImplicit:
		return m, nil
	case "":
		return TLSNone, nil
	}
	return "", fmt.Errorf("tls mode %q: want none, starttls or implicit", s)
}

func tlsConfig(addr string, insecure bool) *tls.Config {
	host := addr
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		host = addr[:i]
	}
	return &tls.Config{ServerName: host, InsecureSkipVerify: insecure}
}

// Cred is one test account: login name, password, mail address.
type Cred struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Address  string `json:"address"`
}

// PatternUsers makes the accounts pattern%first .. pattern%last, all with
// one password, addressed user@domain (e.g. "testuser%d", 1, 100).
func PatternUsers(pattern string, first, last int, password, domain string) []Cred {
	var out []Cred
	for i := first; i <= last; i++ {
		u := pattern
		if strings.Contains(pattern, "%") {
			u = fmt.Sprintf(pattern, i)
		}
		out = append(out, Cred{User: u, Password: password, Address: u + "@" + domain})
	}
	return out
}

// ParseRange reads "1..100" (or a single number "5").
func ParseRange(s string) (first, last int, err error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		b = a
	}
	if first, err = strconv.Atoi(strings.TrimSpace(a)); err == nil {
		last, err = strconv.Atoi(strings.TrimSpace(b))
	}
	if err != nil || first > last {
		return 0, 0, fmt.Errorf("range %q: want FIRST..LAST", s)
	}
	return first, last, nil
}

// ReadUsersFile reads accounts, one a line: "user password [address]"
// (whitespace or ';' separated; '#' starts a comment). A missing address is
// user@domain.
func ReadUsersFile(path, domain string) ([]Cred, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Cred
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' })
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want \"user password [address]\"", path, n)
		}
		c := Cred{User: fields[0], Password: fields[1], Address: fields[0] + "@" + domain}
		if len(fields) > 2 {
			c.Address = fields[2]
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// words is the vocabulary of generated bodies; searchWords are the ones the
// IMAP text searches look for (each appears in roughly a third of messages).
var (
	words       = strings.Fields("schule klasse mathe deutsch englisch hausaufgabe test ausflug elternabend sport musik kunst pause mensa bibliothek projekt referat zeugnis ferien stundenplan vertretung raum lehrer schueler aufgabe frage antwort termin heute morgen woche")
	searchWords = []string{"elternabend", "ausflug", "referat", "vertretung"}
)

// message builds an RFC 5322 message of about size bytes (headers included).
// The subject carries one of searchWords so header searches find something.
func message(rng *rand.Rand, from, to string, size int) []byte {
	return compose(rng, "<"+from+">", to, time.Now(), time.Now().UnixNano(), size)
}

// compose writes the message both generators send (message here, GenMessage
// in mailgen.go): the headers with from as the whole From value, a subject
// with one of searchWords, Message-ID <idLeft.random@bench.invalid>, then a
// body of words in 72-column lines until about size bytes.
func compose(rng *rand.Rand, from, to string, date time.Time, idLeft int64, size int) []byte {
	var b strings.Builder
	subj := searchWords[rng.IntN(len(searchWords))]
	fmt.Fprintf(&b, "From: %s\r\nTo: <%s>\r\nSubject: Bench %s %d\r\nDate: %s\r\nMessage-ID: <%d.%d@bench.invalid>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		from, to, subj, rng.IntN(1e6), date.Format(time.RFC1123Z), idLeft, rng.Uint64())
	line := 0
	for b.Len() < size-2 {
		w := words[rng.IntN(len(words))]
		if line+len(w)+1 > 72 {
			b.WriteString("\r\n")
			line = 0
		}
		if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}
