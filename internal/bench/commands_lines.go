package bench

// The large-mailbox table timed by a client that only reads lines: on a
// FETCH 1:* of 100,000 messages go-imap's client spends more time parsing
// than either server spends answering, so its times hide the servers'
// difference. This client counts what it needs and skips literals.

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// lineClient is a line-level IMAP client.
type lineClient struct {
	conn net.Conn
	r    *bufio.Reader
	tag  int
}

func dialLines(addr string, mode TLSMode, insecure bool) (*lineClient, error) {
	var conn net.Conn
	var err error
	if mode == TLSImplicit {
		conn, err = tls.Dial("tcp", addr, tlsConfig(addr, insecure))
	} else {
		conn, err = net.DialTimeout("tcp", addr, 10*time.Second)
	}
	if err != nil {
		return nil, err
	}
	c := &lineClient{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	if _, err := c.line(); err != nil { // greeting
		conn.Close()
		return nil, err
	}
	if mode == TLSStartTLS {
		if _, err := c.do("STARTTLS", nil); err != nil {
			conn.Close()
			return nil, err
		}
		tc := tls.Client(conn, tlsConfig(addr, insecure))
		c.conn, c.r = tc, bufio.NewReaderSize(tc, 64<<10)
	}
	return c, nil
}

// line reads one response line, without CRLF; a literal's bytes are
// skipped (the line goes on after it).
func (c *lineClient) line() (string, error) {
	var out strings.Builder
	for {
		l, err := c.r.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			out.Write(l)
			l, err = c.r.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		l = l[:len(l)-1]
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		out.Write(l)
		n, ok := literalSize(l)
		if !ok {
			return out.String(), nil
		}
		if _, err := c.r.Discard(int(n)); err != nil {
			return "", err
		}
	}
}

// literalSize reads the {n} (or {n+}, ~{n}) at the end of a line.
func literalSize(l []byte) (int64, bool) {
	if len(l) < 3 || l[len(l)-1] != '}' {
		return 0, false
	}
	i := strings.LastIndexByte(string(l), '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(string(l[i+1:len(l)-1]), "+"), 10, 64)
	return n, err == nil
}

// do sends one command and calls each (if not nil) with every untagged
// line; the tagged answer must be OK.
func (c *lineClient) do(cmd string, each func(l string)) (string, error) {
	c.tag++
	tag := "b" + strconv.Itoa(c.tag)
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, cmd); err != nil {
		return "", err
	}
	for {
		l, err := c.line()
		if err != nil {
			return "", err
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return rest, fmt.Errorf("%s: %s", cmd, rest)
			}
			return rest, nil
		}
		if each != nil {
			each(l)
		}
	}
}

// count runs cmd and counts what the untagged lines hold: count(l) per
// line.
func (c *lineClient) count(cmd string, count func(l string) int) (int, error) {
	n := 0
	_, err := c.do(cmd, func(l string) { n += count(l) })
	return n, err
}

// quote writes s as an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// searchHits counts the numbers of a SEARCH response.
func searchHits(l string) int {
	if rest, ok := strings.CutPrefix(l, "* SEARCH"); ok {
		return len(strings.Fields(rest))
	}
	return 0
}

// RunCommandsLines is RunCommands with the line-level client: the same
// commands and checks, timed from the first byte sent to the tagged OK
// read.
func RunCommandsLines(addr string, mode TLSMode, insecure bool, cred Cred, rounds int) (*CommandTimes, error) {
	c, err := dialLines(addr, mode, insecure)
	if err != nil {
		return nil, err
	}
	defer c.conn.Close()
	if _, err := c.do("LOGIN "+quote(cred.User)+" "+quote(cred.Password), nil); err != nil {
		return nil, fmt.Errorf("login %s: %w", cred.User, err)
	}
	const nomatch = "zzqxnomatch"
	steps := []tableStep{
		func() (int, error) {
			return c.count("SELECT INBOX", func(l string) int {
				if rest, ok := strings.CutPrefix(l, "* "); ok && strings.HasSuffix(rest, " EXISTS") {
					n, _ := strconv.Atoi(strings.TrimSuffix(rest, " EXISTS"))
					return n
				}
				return 0
			})
		},
		func() (int, error) {
			return c.count("UID FETCH 1:* (FLAGS)", func(l string) int {
				if strings.HasPrefix(l, "* ") && strings.Contains(l, " FETCH (") {
					return 1
				}
				return 0
			})
		},
		func() (int, error) { return c.count("UID SEARCH UNSEEN", searchHits) },
		func() (int, error) { return c.count("UID SEARCH SUBJECT "+nomatch, searchHits) },
		func() (int, error) {
			n := -1
			_, err := c.do("STATUS INBOX (MESSAGES UNSEEN)", func(l string) {
				if i := strings.Index(l, "UNSEEN "); i >= 0 && strings.HasPrefix(l, "* STATUS") {
					n, _ = strconv.Atoi(strings.TrimRight(l[i+len("UNSEEN "):], ") "))
				}
			})
			if err == nil && n < 0 {
				err = fmt.Errorf("no UNSEEN")
			}
			return n, err
		},
		func() (int, error) {
			_, err := c.do(`UID STORE 1:1000 +FLAGS.SILENT (\Flagged)`, nil)
			return 0, err
		},
		func() (int, error) { return c.count("SEARCH BODY "+nomatch, searchHits) },
	}
	undo := func() error {
		_, err := c.do(`UID STORE 1:1000 -FLAGS.SILENT (\Flagged)`, nil)
		return err
	}
	res, err := runTable(addr, rounds, steps, undo)
	if err == nil {
		c.do("LOGOUT", nil)
	}
	return res, err
}
