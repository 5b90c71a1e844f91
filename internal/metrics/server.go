package metrics

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is what /healthz and /readyz answer from. /healthz: the process
// serves HTTP. /readyz: every listener the server opened is accepting
// and the store takes a write.
type Health struct {
	mu        sync.Mutex
	listeners map[string]bool // name → its accept loop runs
	stopping  bool
	// Store checks that the store is writable (store.CheckWritable).
	Store func() error
}

// Listening marks a listener as accepting (its accept loop started).
func (h *Health) Listening(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.listeners == nil {
		h.listeners = map[string]bool{}
	}
	h.listeners[name] = true
}

// Stopped marks a listener whose accept loop returned.
func (h *Health) Stopped(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listeners[name] = false
}

// Stopping makes /readyz fail from now on (shutdown has begun).
func (h *Health) Stopping() {
	h.mu.Lock()
	h.stopping = true
	h.mu.Unlock()
}

// ready lists what is not ready; empty means ready.
func (h *Health) ready() []string {
	var bad []string
	h.mu.Lock()
	if h.stopping {
		bad = append(bad, "shutting down")
	}
	if len(h.listeners) == 0 {
		bad = append(bad, "no listener started")
	}
	for name, up := range h.listeners {
		if !up {
			bad = append(bad, "listener "+name+" not accepting")
		}
	}
	h.mu.Unlock()
	sort.Strings(bad)
	if h.Store != nil {
		if err := h.Store(); err != nil {
			bad = append(bad, "store not writable: "+err.Error())
		}
	}
	return bad
}

// Handler serves /metrics (Prometheus text format), /healthz and /readyz.
func (m *Metrics) Handler(h *Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if bad := h.ready(); len(bad) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(bad, "\n"))
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// Server is the metrics listener.
type Server struct{ http *http.Server }

// NewServer serves Handler(h); Serve it on a listener, Close at shutdown.
func (m *Metrics) NewServer(h *Health) *Server {
	return &Server{http: &http.Server{Handler: m.Handler(h), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}}
}

// Serve accepts scrapes on ln until Close.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.http.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// Close stops the listener, letting a running scrape finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

// IsLoopback reports whether a listen address binds only to the loopback
// interface: 127.0.0.0/8, ::1 or "localhost". An empty host (":9327")
// binds every interface and is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
