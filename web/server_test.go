package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

func TestServerMountsDAV(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute, Logger: logger})
	defer v.Close()
	svc := &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
	c, err := svc.AddUser("test", admin.NewUser{First: "Max", Last: "Müller", Role: policy.Student, Password: "Str0ng!Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPassword("test", c.Account.Name, "An0ther!Passw0rd"); err != nil {
		t.Fatal(err)
	}

	s := New(Options{Store: st, Auth: v, Policy: policy.NewEngine(), Logger: logger})
	s.Mount("/hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	req, _ := http.NewRequest("PUT", base+"/dav/home/a.txt", strings.NewReader("hallo"))
	req.SetBasicAuth("max.mueller", "An0ther!Passw0rd")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("PUT through web: %v %v", err, resp)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("PROPFIND", base+"/dav", nil)
	req.SetBasicAuth("max.mueller", "An0ther!Passw0rd")
	req.Header.Set("Depth", "1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 207 {
		t.Fatalf("PROPFIND /dav: %v %v", err, resp)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "/dav/home/") || !strings.Contains(string(b), "/dav/groups/") {
		t.Fatalf("PROPFIND /dav: %s", b)
	}
	resp, err = http.Get(base + "/hello")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("mounted handler: %v %v", err, resp)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("OPTIONS", base+"/", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.Header.Get("DAV") == "" {
		t.Fatalf("OPTIONS /: %v %v", err, resp)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}
