// Package metrics is Schulhof's Prometheus instrumentation: one registry
// per server, the counters every daemon calls at its edges, and the
// loopback HTTP listener that serves /metrics, /healthz and /readyz
// (server.go). Daemons get a *Metrics in their Options and call its
// methods; a nil *Metrics does nothing, so tests and tools that do not
// care pass none.
//
// Labels are bounded: protocols, listeners, rule IDs and command names
// come from fixed lists (anything else is counted as "other"); no account
// names and no addresses ever become labels.
package metrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"schulhof/policy"
)

// Protocols, the values of the "protocol" label.
const (
	SMTP = "smtp"
	IMAP = "imap"
	DAV  = "dav"
	Web  = "web" // the portal and the rest of the HTTPS listener
	Chat = "chat"
	// CardDAV is the address book (carddavd).
	CardDAV = "carddav"
)

var protocols = map[string]bool{SMTP: true, IMAP: true, DAV: true, Web: true, Chat: true, CardDAV: true}

// Metrics holds the server's collectors. Its methods are safe for
// concurrent use and do nothing on a nil *Metrics.
type Metrics struct {
	reg *prometheus.Registry

	connsOpen  *prometheus.GaugeVec
	connsTotal *prometheus.CounterVec
	commands   *prometheus.CounterVec
	deliveries prometheus.Counter
	delivRcpts prometheus.Counter
	refusals   *prometheus.CounterVec
	authFailed *prometheus.CounterVec
	throttled  *prometheus.CounterVec
	commit     *prometheus.HistogramVec
	blobSync   prometheus.Histogram
}

// New creates the collectors on a registry of their own (not the global
// default one: two servers in one test process must not share counts),
// with Go runtime and process metrics beside them.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.connsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "schulhof_connections_open", Help: "Connections open now, per protocol and listener (chat: WebSocket connections).",
	}, []string{"protocol", "listener"})
	m.connsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schulhof_connections_total", Help: "Connections accepted, per protocol and listener (chat: WebSocket connections).",
	}, []string{"protocol", "listener"})
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schulhof_commands_total", Help: "Commands received: SMTP and IMAP commands, HTTP methods (dav, web), chat frame types.",
	}, []string{"protocol", "command"})
	m.deliveries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "schulhof_mail_deliveries_total", Help: "Messages accepted by SMTP and delivered into the store.",
	})
	m.delivRcpts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "schulhof_mail_delivery_recipients_total", Help: "Mailboxes the accepted messages were delivered to.",
	})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schulhof_refusals_total", Help: "Refusals by rule ID, counted where a daemon turns a policy decision into its protocol's error.",
	}, []string{"protocol", "rule"})
	m.authFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schulhof_auth_failures_total", Help: "Logins refused for a wrong name or password (AUTH-FAILED).",
	}, []string{"protocol"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schulhof_auth_throttled_total", Help: "Logins refused because too many attempts failed (AUTH-THROTTLE).",
	}, []string{"protocol"})
	m.commit = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "schulhof_store_commit_seconds", Help: "Duration of one bbolt write transaction, fsync included (group: a shared group-commit round).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … 4 s
	}, []string{"kind"})
	m.blobSync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "schulhof_store_blob_sync_seconds", Help: "Duration of the fsync of one new blob file before its rename.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	m.reg.MustRegister(m.connsOpen, m.connsTotal, m.commands, m.deliveries, m.delivRcpts,
		m.refusals, m.authFailed, m.throttled, m.commit, m.blobSync,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where further collectors (store usage, backup age) are
// registered.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func protocol(p string) string {
	if protocols[p] {
		return p
	}
	return "other"
}

// ruleLabel is the rule ID. Rule IDs are constants of the code (policy's
// rule table, QUOTA, LIMIT-*), never client input, so they are a bounded
// set; anything not shaped like an ID is "other".
func ruleLabel(r policy.Rule) string {
	if len(r) == 0 || len(r) > 32 {
		return "other"
	}
	for i, c := range []byte(r) {
		if !(c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return "other"
		}
	}
	return string(r)
}

// Refused counts one refusal; call it at the one place per daemon where
// a policy.Decision becomes the protocol's error.
func (m *Metrics) Refused(proto string, d policy.Decision) {
	if m == nil || d.Allow {
		return
	}
	m.refusals.WithLabelValues(protocol(proto), ruleLabel(d.Rule)).Inc()
}

// Login counts the outcome of one login attempt (internal/auth.Verify).
func (m *Metrics) Login(proto string, d policy.Decision) {
	if m == nil || d.Allow {
		return
	}
	switch d.Rule {
	case policy.AuthFailed:
		m.authFailed.WithLabelValues(protocol(proto)).Inc()
	case policy.AuthThrottle:
		m.throttled.WithLabelValues(protocol(proto)).Inc()
	}
}

// Command counts one command; names outside the protocol's list count
// as "other" (a client chooses what it sends).
func (m *Metrics) Command(proto, name string) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(protocol(proto), commandLabel(proto, name)).Inc()
}

// Delivered counts one accepted message and the mailboxes it reached.
func (m *Metrics) Delivered(recipients int) {
	if m == nil {
		return
	}
	m.deliveries.Inc()
	m.delivRcpts.Add(float64(recipients))
}

// ConnOpened counts a connection on a listener ("submission", "imaps",
// "https", …) and returns the function to call once when it closes.
func (m *Metrics) ConnOpened(proto, listener string) (closed func()) {
	if m == nil {
		return func() {}
	}
	labels := []string{protocol(proto), listenerLabel(listener)}
	m.connsTotal.WithLabelValues(labels...).Inc()
	g := m.connsOpen.WithLabelValues(labels...)
	g.Inc()
	return g.Dec
}

var listeners = map[string]bool{"submission": true, "submissions": true, "imap": true, "imaps": true, "https": true}

func listenerLabel(l string) string {
	if listeners[l] {
		return l
	}
	return "other"
}

// Commit observes one bbolt write transaction (store.Observer).
func (m *Metrics) Commit(group bool, d time.Duration) {
	if m == nil {
		return
	}
	kind := "single"
	if group {
		kind = "group"
	}
	m.commit.WithLabelValues(kind).Observe(d.Seconds())
}

// BlobSync observes one blob fsync (store.Observer).
func (m *Metrics) BlobSync(d time.Duration) {
	if m == nil {
		return
	}
	m.blobSync.Observe(d.Seconds())
}

// commandLabel maps a command to its label: upper case for the mail
// protocols and HTTP, lower case for chat frame types, "other" when the
// name is not on the protocol's list.
func commandLabel(proto, name string) string {
	var list map[string]bool
	switch proto {
	case SMTP:
		name, list = strings.ToUpper(name), smtpCommands
	case IMAP:
		name, list = strings.ToUpper(name), imapCommands
	case DAV, Web:
		name, list = strings.ToUpper(name), httpMethods
	case Chat:
		list = chatFrames
	}
	if list[name] {
		return name
	}
	return "other"
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	smtpCommands = set("HELO", "EHLO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
		"VRFY", "STARTTLS", "AUTH", "XCLIENT")
	imapCommands = set("NOOP", "CHECK", "LOGOUT", "CAPABILITY", "ID", "STARTTLS", "AUTHENTICATE",
		"UNAUTHENTICATE", "LOGIN", "ENABLE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE",
		"STATUS", "LIST", "LSUB", "NAMESPACE", "IDLE", "SELECT", "EXAMINE", "CLOSE", "UNSELECT",
		"APPEND", "EXPUNGE", "UID EXPUNGE", "FETCH", "UID FETCH", "STORE", "UID STORE", "COPY",
		"UID COPY", "MOVE", "UID MOVE", "SEARCH", "UID SEARCH", "GETQUOTAROOT", "GETQUOTA", "SETQUOTA",
		"THREAD", "UID THREAD", "GETACL", "SETACL", "MYRIGHTS", "DELETEACL", "LISTRIGHTS")
	httpMethods = set("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PROPFIND", "PROPPATCH",
		"MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PATCH")
	chatFrames = set("sync", "hist", "send", "edit", "del", "read", "report", "search", "dm")
)
