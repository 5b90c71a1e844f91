package web

import (
	"schulhof/carddavd"
)

// mountCardDAV serves the shared address book over CardDAV at /carddav/
// with RFC 6764 discovery at /.well-known/carddav. It is a module of the
// portal (MODULE-OFF as on the portal's page), so it comes with it.
func (s *Server) mountCardDAV() {
	po := s.portal.opt // defaults filled in (every module on unless configured)
	h := carddavd.New(carddavd.Options{Store: s.opt.Store, Auth: s.opt.Auth, Policy: s.opt.Policy,
		Logger: s.opt.Logger, Domain: po.Domain, Modules: po.Modules, Metrics: s.opt.Metrics})
	s.mux.Handle(carddavd.Prefix, h)
	// Without the slash too: the mux would answer PROPFIND /carddav with
	// a redirect that DAV clients do not all follow.
	s.mux.Handle("/carddav", h)
	s.mux.Handle("/.well-known/carddav", carddavd.WellKnown())
}
