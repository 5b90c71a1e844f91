package doctor

import (
	"context"
	"net"
	"time"

	"schulhof/store"
)

// Options are what the CLI knows from the configuration.
type Options struct {
	Domain string
	// Host is the name mail clients connect to ([autoconfig] hostname,
	// else the domain): the certificate must cover it.
	Host      string
	Listeners []Listener
	SRV       []SRVWant
	// CertFile is the certificate in use; SelfSigned: the generated one.
	CertFile   string
	SelfSigned bool
	BackupDir  string
	// Running: a server answered on the admin socket, so its listeners
	// should answer too.
	Running  bool
	Resolver *net.Resolver // nil: the system's
	Timeout  time.Duration // per connection and lookup; 0: 5 s
	Now      time.Time     // zero: now
}

// Network runs the checks that need no store: certificate, listeners,
// DNS and backup age.
func Network(ctx context.Context, o Options) []Finding {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	certs, fp := checkCertificate(o.CertFile, o.SelfSigned, o.Host, []string{"autoconfig." + o.Domain}, o.Now)
	out := checkListeners(ctx, o.Listeners, o.Running, fp, o.Timeout)
	out = append(out, certs...)
	dctx, cancel := context.WithTimeout(ctx, 2*o.Timeout)
	defer cancel()
	out = append(out, checkDNS(dctx, o.Resolver, o.Domain, o.Host, o.SRV)...)
	return append(out, checkBackup(o.BackupDir, o.Now))
}

// StoreFindings runs the checks on the open store: bbolt's check, the
// blobs against their reference counts, free disk against the data size.
func StoreFindings(st *store.Store) []Finding {
	out := []Finding{checkDatabase(st)}
	out = append(out, checkBlobs(st)...)
	u, err := store.DiskUsage(st.Dir())
	if err != nil {
		return append(out, finding("disk", Fail, "disk.error", st.Dir(), err))
	}
	return append(out, checkDisk(u))
}

// NoStore is the finding when the store could not be opened in the CLI
// (no database there, or held by a process without a socket).
func NoStore(dir string, exists bool, err error) Finding {
	if !exists {
		return finding("database", Fail, "db.missing", dir)
	}
	return finding("database", Fail, "db.open", dir, err)
}
