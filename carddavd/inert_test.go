package carddavd

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"schulhof/internal/usercontent/inerttest"
)

// Every response carries the inert-content headers, as davd's do: a
// refusal before login and after it (the book is read-only), an answer,
// a path of another account, and the discovery redirect.
func TestEveryResponseInert(t *testing.T) {
	st, v, anna := inerttest.Pupil(t)
	h := New(Options{Store: st, Auth: v, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Domain: "schule.test"})
	mux := http.NewServeMux()
	mux.Handle(Prefix, h)
	mux.Handle("/.well-known/carddav", WellKnown())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	inerttest.Check(t, srv.URL, []inerttest.Request{
		inerttest.R("", "PROPFIND", Prefix, http.StatusUnauthorized),
		inerttest.R(anna, "PUT", HomePath(anna)+bookName+"/x.vcf", http.StatusForbidden),
		inerttest.R(anna, "PROPFIND", HomePath(anna), http.StatusMultiStatus),
		inerttest.R(anna, "PROPFIND", HomePath("jemand.anders"), http.StatusNotFound),
		inerttest.R("", "GET", "/.well-known/carddav", http.StatusMovedPermanently),
	})
}
