package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"schulhof/internal/adminsock"
	"schulhof/internal/config"
	"schulhof/internal/doctor"
	"schulhof/internal/tlsutil"
	"schulhof/store"
)

func init() {
	register(&command{path: "doctor", summary: "check the installation and say what to do (exit 1 on FEHLER)\n" +
		"Listeners, certificate (validity, names), DNS (autoconfig, SRV _submission and _imaps), free disk,\n" +
		"bbolt's consistency check, blobs against their reference counts, backup age. With a running server\n" +
		"the store checks run inside it (over the admin socket); without one on a read-only store.",
		flags: func(fs *flag.FlagSet) {
			fs.String("lang", "", "de or en (default: language from the config)")
			fs.String("dns-server", "", "ask this DNS server (host:port) instead of the system's, e.g. the school's authoritative one")
			fs.Duration("timeout", 5*time.Second, "per connection and DNS lookup")
			fs.Bool("store-json", false, "internal: the store checks as JSON (what the CLI asks the server)")
		},
		client: doctorClient,
		// In the server: the store checks on its open store.
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			return e.printJSON(doctor.StoreFindings(e.svc.Store))
		}})
}

func doctorClient(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	c, _ := findCommand([]string{"doctor"})
	fs, pos, err := c.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, c.help())
		return 0
	}
	if err == nil && len(pos) > 0 {
		err = usagef("doctor takes no arguments")
	}
	lang := cfg.Language
	if err == nil {
		if l := str(fs, "lang"); l != "" {
			lang = l
		}
		if lang != "de" && lang != "en" {
			err = usagef("--lang %q: use de or en", lang)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 2
	}
	timeout, _ := time.ParseDuration(str(fs, "timeout"))

	storeFindings, running := doctorStore(cfg)
	if boolean(fs, "store-json") {
		json.NewEncoder(stdout).Encode(storeFindings)
		return 0
	}
	opt := doctorOptions(cfg, running, timeout)
	if addr := str(fs, "dns-server"); addr != "" {
		opt.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	}
	findings := append(doctor.Network(context.Background(), opt), storeFindings...)
	doctor.Write(stdout, findings, lang)
	if doctor.Failed(findings) {
		return 1
	}
	return 0
}

// doctorStore runs the store checks in the server if one answers on the
// socket, else here on a read-only store (never the sweep a normal open
// does: it would remove the orphans doctor is to report).
func doctorStore(cfg *config.Config) ([]doctor.Finding, bool) {
	resp, err := adminsock.Call(socketPath(cfg), adminsock.Request{Args: []string{"doctor", "--store-json"}, Actor: osUser()})
	if err == nil {
		var fs []doctor.Finding
		if resp.Code != 0 || json.Unmarshal([]byte(resp.Stdout), &fs) != nil {
			return []doctor.Finding{doctor.NoStore(cfg.DataDir, true, fmt.Errorf("server: %s", resp.Stderr))}, true
		}
		return fs, true
	}
	if !errors.Is(err, adminsock.ErrNoServer) {
		// The socket is there but refused us (permissions): a server
		// runs, its listeners are still worth checking.
		return []doctor.Finding{doctor.NoStore(cfg.DataDir, true, err)}, true
	}
	if !store.Exists(cfg.DataDir) {
		return []doctor.Finding{doctor.NoStore(cfg.DataDir, false, nil)}, false
	}
	st, err := store.Open(cfg.DataDir, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return []doctor.Finding{doctor.NoStore(cfg.DataDir, true, err)}, false
	}
	defer st.Close()
	return doctor.StoreFindings(st), false
}

// doctorOptions: what the configuration says clients should find.
func doctorOptions(cfg *config.Config, running bool, timeout time.Duration) doctor.Options {
	certFile, _, selfSigned := tlsutil.Paths(cfg.TLS.Cert, cfg.TLS.Key, cfg.DataDir)
	host := cfg.Autoconfig.Hostname
	if host == "" {
		host = cfg.Domain
	}
	ac := autoconfigOptions(cfg)
	port := func(p, standard int) int {
		if p == 0 {
			return standard
		}
		return p
	}
	l := cfg.Listen
	return doctor.Options{
		Domain: cfg.Domain, Host: host, CertFile: certFile, SelfSigned: selfSigned,
		BackupDir: cfg.Backup.Dir, Running: running, Timeout: timeout,
		Listeners: []doctor.Listener{
			{Name: "submission", Addr: l.Submission, Kind: doctor.SMTPStartTLS},
			{Name: "submissions", Addr: l.Submissions, Kind: doctor.ImplicitTLS},
			{Name: "imap", Addr: l.IMAP, Kind: doctor.IMAPStartTLS},
			{Name: "imaps", Addr: l.IMAPS, Kind: doctor.ImplicitTLS},
			{Name: "https", Addr: l.HTTPS, Kind: doctor.ImplicitTLS},
		},
		SRV: []doctor.SRVWant{
			{Service: "submission", Port: port(ac.SubmissionPort, 587)},
			{Service: "imaps", Port: port(ac.IMAPPort, 993)},
		},
	}
}
