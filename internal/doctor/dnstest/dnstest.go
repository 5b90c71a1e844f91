// Package dnstest is a small authoritative DNS server on loopback UDP for
// tests (built on golang.org/x/net/dns/dnsmessage): it answers A, AAAA,
// CNAME and SRV from records the test adds, NXDOMAIN for unknown names.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server is the running server.
type Server struct {
	Addr string // 127.0.0.1:port
	conn net.PacketConn

	mu      sync.Mutex
	records map[string][]record // lower-case name with the final dot
	queries int
}

type record struct {
	typ  dnsmessage.Type
	body dnsmessage.ResourceBody
}

// Start listens on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: c.LocalAddr().String(), conn: c, records: map[string][]record{}}
	t.Cleanup(func() { c.Close() })
	go s.serve()
	return s
}

// Resolver asks only this server.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.Addr)
	}}
}

// Queries is how many questions were answered.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

func key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }

func (s *Server) add(name string, r record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[key(name)] = append(s.records[key(name)], r)
}

// AddA adds an A or AAAA record.
func (s *Server) AddA(name string, ip net.IP) {
	if v4 := ip.To4(); v4 != nil {
		s.add(name, record{dnsmessage.TypeA, &dnsmessage.AResource{A: [4]byte(v4)}})
		return
	}
	s.add(name, record{dnsmessage.TypeAAAA, &dnsmessage.AAAAResource{AAAA: [16]byte(ip.To16())}})
}

// AddCNAME makes name an alias of target.
func (s *Server) AddCNAME(name, target string) {
	s.add(name, record{dnsmessage.TypeCNAME, &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(key(target))}})
}

// AddSRV adds an SRV record (name like "_imaps._tcp.schule.test").
func (s *Server) AddSRV(name string, priority, weight, port uint16, target string) {
	s.add(name, record{dnsmessage.TypeSRV, &dnsmessage.SRVResource{Priority: priority, Weight: weight, Port: port,
		Target: dnsmessage.MustNewName(key(target))}})
}

func (s *Server) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, ok := s.answer(buf[:n]); ok {
			s.conn.WriteTo(resp, from)
		}
	}
}

// answer builds the response to one query: the records of the asked type,
// a CNAME followed to its target's records, NXDOMAIN for unknown names.
func (s *Server) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	name := strings.ToLower(q.Name.String())
	type answer struct {
		name string
		r    record
	}
	var answers []answer
	_, known := s.records[name]
	for hops := 0; hops < 8; hops++ {
		var cname *dnsmessage.CNAMEResource
		for _, r := range s.records[name] {
			if r.typ == q.Type {
				answers = append(answers, answer{name, r})
			} else if r.typ == dnsmessage.TypeCNAME {
				cname = r.body.(*dnsmessage.CNAMEResource)
				answers = append(answers, answer{name, r})
			}
		}
		if cname == nil || q.Type == dnsmessage.TypeCNAME {
			break
		}
		name = strings.ToLower(cname.CNAME.String())
	}
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{ID: h.ID, Response: true,
		Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: rcode})
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	for _, a := range answers {
		hdr := dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(a.name), Class: dnsmessage.ClassINET, TTL: 60}
		var err error
		switch body := a.r.body.(type) {
		case *dnsmessage.AResource:
			err = b.AResource(hdr, *body)
		case *dnsmessage.AAAAResource:
			err = b.AAAAResource(hdr, *body)
		case *dnsmessage.CNAMEResource:
			err = b.CNAMEResource(hdr, *body)
		case *dnsmessage.SRVResource:
			err = b.SRVResource(hdr, *body)
		}
		if err != nil {
			return nil, false
		}
	}
	msg, err := b.Finish()
	return msg, err == nil
}
