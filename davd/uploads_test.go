package davd

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"schulhof/policy"
)

// An account has at most uploads_per_account PUTs running (each holds up
// to 20 MiB on disk before the quota counts it); one more is answered 429
// [LIMIT-UPLOADS] with Retry-After, and a slot is free again when an
// upload ends.
func TestUploadsPerAccount(t *testing.T) {
	e := newEnv(t)
	if err := e.h.opt.Policy.SetBound(policy.UploadsPerAccount, 2); err != nil {
		t.Fatal(err)
	}
	u := e.user(t, "Uli", "Lade", policy.Student)
	other := e.user(t, "Olga", "Andere", policy.Student)
	auth := base64.StdEncoding.EncodeToString([]byte(u + ":" + testPassword))
	// Two chunked uploads that have started: the server asked for the body
	// (100 Continue), so both passed the preflight and hold a slot.
	var conns []net.Conn
	var readers []*bufio.Reader
	for i := range 2 {
		c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "PUT /dav/home/slow%d.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"+
			"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", i, auth)
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err != nil || !strings.Contains(line, "100") {
			t.Fatalf("upload %d: %q %v", i, line, err)
		}
		br.ReadString('\n') // the blank line after 100 Continue
		fmt.Fprintf(c, "3\r\nabc\r\n")
		conns, readers = append(conns, c), append(readers, br)
	}
	r, body := e.do(t, u, "PUT", "/dav/home/third.txt", strings.NewReader("x"))
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(body, "[LIMIT-UPLOADS]") {
		t.Fatalf("third upload: %d %q", r.StatusCode, body)
	}
	if r, _ := e.do(t, other, "PUT", "/dav/home/mine.txt", strings.NewReader("x")); r.StatusCode != 201 {
		t.Fatalf("another account's upload: %d", r.StatusCode)
	}
	fmt.Fprintf(conns[0], "0\r\n\r\n")
	resp, err := http.ReadResponse(readers[0], nil)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("first upload: %v %v", resp, err)
	}
	resp.Body.Close()
	if r, _ := e.do(t, u, "PUT", "/dav/home/third.txt", strings.NewReader("x")); r.StatusCode != 201 {
		t.Fatalf("upload after one ended: %d", r.StatusCode)
	}
}
