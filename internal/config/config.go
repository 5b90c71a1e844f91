// Package config loads Schulhof's one TOML configuration file. Every key has
// a default, so `schulhof serve` runs without a file; unknown keys are an
// error naming the key, never silently ignored.
package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"schulhof/policy"
)

// Config is the whole configuration. packaging/schulhof.toml documents
// every key.
type Config struct {
	Domain   string `toml:"domain"`
	DataDir  string `toml:"data_dir"`
	Language string `toml:"language"` // de or en: user-facing texts

	Listen Listen `toml:"listen"`
	TLS    TLS    `toml:"tls"`
	Auth   Auth   `toml:"auth"`
	Policy Policy `toml:"policy"`
	Mail   Mail   `toml:"mail"`
	Limits Limits `toml:"limits"`
	// Bounds overrides entries of policy.BoundTable by key
	// (xml_body_bytes = 2000000); every bound on user input is there.
	Bounds map[string]int64 `toml:"bounds"`

	Autoconfig Autoconfig `toml:"autoconfig"` // mail client onboarding (autoconfig.go)
	Files      Files      `toml:"files"`      // WebDAV quotas (files.go)
	Portal     Portal     `toml:"portal"`     // web sessions (portal.go)
	Chat       Chat       `toml:"chat"`       // direct conversations per role
	Modules    Modules    `toml:"modules"`    // Nutzungsmöglichkeiten
	Metrics    Metrics    `toml:"metrics"`    // Prometheus listener (observability.go)
	Log        Log        `toml:"log"`        // log format (observability.go)
	Backup     Backup     `toml:"backup"`     // scheduled backups (backup.go)
	Audit      Audit      `toml:"audit"`      // inspections (audit.go)
	Privacy    Privacy    `toml:"privacy"`    // leavers (privacy.go)
	Homework   Homework   `toml:"homework"`   // HOMEWORK-PERIOD (homework.go)
}

// Mail configures smtpd and imapd.
type Mail struct {
	// MaxMessageBytes, if not 0, is a hard cap of one SMTP message,
	// advertised as "SIZE n". 0: "SIZE" without a number and each message
	// is held to its account's SIZE-20MB limit (exceptions included).
	MaxMessageBytes int64 `toml:"max_message_bytes"`
}

// Limits holds MAIL-MASS per role ([limits.student], [limits.teacher],
// [limits.admin]); auditors get the student limits.
type Limits struct {
	Student RoleLimits `toml:"student"`
	Teacher RoleLimits `toml:"teacher"`
	Admin   RoleLimits `toml:"admin"`
}

// RoleLimits are one role's mail limits; 0 means unlimited.
type RoleLimits struct {
	RecipientsPerMessage int `toml:"recipients_per_message"`
	MessagesPerHour      int `toml:"messages_per_hour"`
	// Group addresses the role may write to besides the groups it
	// teaches: "none", "member" (own groups) or "all".
	GroupAddresses string `toml:"group_addresses"`
}

// MailLimits converts the section for policy.
func (l Limits) MailLimits() map[policy.Role]policy.MailLimits {
	conv := func(r RoleLimits) policy.MailLimits {
		return policy.MailLimits{RecipientsPerMessage: r.RecipientsPerMessage,
			MessagesPerHour: r.MessagesPerHour, GroupAddresses: r.GroupAddresses}
	}
	return map[policy.Role]policy.MailLimits{
		policy.Student: conv(l.Student), policy.Teacher: conv(l.Teacher),
		policy.Admin: conv(l.Admin), policy.Auditor: conv(l.Student),
	}
}

// Listen holds listener addresses; "" disables a listener.
type Listen struct {
	Submission  string `toml:"submission"`  // SMTP + STARTTLS
	Submissions string `toml:"submissions"` // SMTP, implicit TLS
	IMAP        string `toml:"imap"`        // IMAP + STARTTLS
	IMAPS       string `toml:"imaps"`       // IMAP, implicit TLS
	HTTPS       string `toml:"https"`       // WebDAV, chat, login, autoconfig
}

// TLS names the certificate; empty means a self-signed one generated into
// the data directory on first start.
type TLS struct {
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
}

// Auth configures the one authentication path.
type Auth struct {
	// Days login-log entries (account tried, protocol, IP, time, result)
	// are kept before they are purged automatically.
	LoginLogRetentionDays int `toml:"login_log_retention_days"`
	// Failed logins allowed per minute per account name and per client
	// address before further attempts are refused (AUTH-THROTTLE).
	FailuresPerAccountPerMinute int `toml:"failures_per_account_per_minute"`
	FailuresPerIPPerMinute      int `toml:"failures_per_ip_per_minute"`
	// Seconds a successful verification is cached (0 disables the cache).
	CacheSeconds int `toml:"cache_seconds"`
}

// Policy holds the configurable parts of the usage rules.
type Policy struct {
	// SIZE-20MB: the largest upload or download without an exception.
	MaxTransferBytes int64 `toml:"max_transfer_bytes"`
	// Whether new accounts start with consent to e-mail and chat recorded
	// (the school collects the signed forms before creating accounts).
	DefaultConsentComms bool `toml:"default_consent_comms"`
}

// Default returns the configuration used when no file is given. As root
// the standard ports are used, otherwise high ports.
func Default() *Config {
	c := &Config{
		Domain:   "schule.test",
		DataDir:  "./schulhof-data",
		Language: "de",
		Auth: Auth{
			LoginLogRetentionDays:       30,
			FailuresPerAccountPerMinute: 5,
			FailuresPerIPPerMinute:      30,
			CacheSeconds:                300,
		},
		Policy: Policy{MaxTransferBytes: 20 << 20, DefaultConsentComms: true},
		Files:  defaultFiles(),
		Portal: defaultPortal(), Modules: defaultModules(),
		Metrics:  defaultMetrics(),
		Backup:   defaultBackup(),
		Audit:    defaultAudit(),
		Privacy:  defaultPrivacy(),
		Homework: defaultHomework(),
	}
	def := policy.DefaultMailLimits()
	conv := func(l policy.MailLimits) RoleLimits {
		return RoleLimits{RecipientsPerMessage: l.RecipientsPerMessage,
			MessagesPerHour: l.MessagesPerHour, GroupAddresses: l.GroupAddresses}
	}
	c.Limits = Limits{Student: conv(def[policy.Student]), Teacher: conv(def[policy.Teacher]), Admin: conv(def[policy.Admin])}
	if os.Geteuid() == 0 {
		c.Listen = Listen{Submission: ":587", Submissions: ":465", IMAP: ":143", IMAPS: ":993", HTTPS: ":443"}
	} else {
		c.Listen = Listen{Submission: ":2587", Submissions: ":2465", IMAP: ":2143", IMAPS: ":2993", HTTPS: ":8443"}
	}
	return c
}

// Overrides are the global command-line flags; empty means "not given".
type Overrides struct {
	ConfigFile string
	DataDir    string
	Domain     string
}

// Load reads the file named in o (if any) over the defaults, applies the
// flag overrides and checks the result.
func Load(o Overrides) (*Config, error) {
	c := Default()
	if o.ConfigFile != "" {
		raw, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := c.parse(raw); err != nil {
			return nil, fmt.Errorf("config %s: %w", o.ConfigFile, err)
		}
	}
	if o.DataDir != "" {
		c.DataDir = o.DataDir
	}
	if o.Domain != "" {
		c.Domain = o.Domain
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) parse(raw []byte) error {
	md, err := toml.NewDecoder(bytes.NewReader(raw)).Decode(c)
	if err != nil {
		return err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	return nil
}

func (c *Config) validate() error {
	c.Domain = strings.ToLower(strings.TrimSpace(c.Domain))
	if c.Domain == "" || strings.ContainsAny(c.Domain, " @/\\") || !strings.Contains(c.Domain, ".") {
		return fmt.Errorf("config: domain %q is not a domain name", c.Domain)
	}
	if c.DataDir == "" {
		return fmt.Errorf("config: data_dir is empty")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return err
	}
	c.DataDir = abs
	if c.Language != "de" && c.Language != "en" {
		return fmt.Errorf("config: language %q: use \"de\" or \"en\"", c.Language)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return fmt.Errorf("config: tls.cert and tls.key must be given together")
	}
	if c.Auth.LoginLogRetentionDays < 1 {
		return fmt.Errorf("config: auth.login_log_retention_days must be at least 1")
	}
	if c.Auth.FailuresPerAccountPerMinute < 1 || c.Auth.FailuresPerIPPerMinute < 1 {
		return fmt.Errorf("config: auth.failures_per_*_per_minute must be at least 1")
	}
	if c.Auth.CacheSeconds < 0 {
		return fmt.Errorf("config: auth.cache_seconds must not be negative")
	}
	if c.Mail.MaxMessageBytes < 0 {
		return fmt.Errorf("config: mail.max_message_bytes must not be negative")
	}
	for name, l := range map[string]RoleLimits{"student": c.Limits.Student, "teacher": c.Limits.Teacher, "admin": c.Limits.Admin} {
		if l.RecipientsPerMessage < 0 || l.MessagesPerHour < 0 {
			return fmt.Errorf("config: limits.%s: limits must not be negative (0 = unlimited)", name)
		}
		if err := policy.ValidGroupAddresses(l.GroupAddresses); err != nil {
			return fmt.Errorf("config: limits.%s.%w", name, err)
		}
	}
	if _, err := c.Engine(); err != nil {
		return fmt.Errorf("config: bounds: %w", err)
	}
	if c.Policy.MaxTransferBytes < 1 {
		return fmt.Errorf("config: policy.max_transfer_bytes must be positive")
	}
	if err := c.Autoconfig.validate(); err != nil {
		return err
	}
	if err := c.Files.validate(); err != nil {
		return err
	}
	if err := c.validateObservability(); err != nil {
		return err
	}
	if err := c.validateBackup(); err != nil {
		return err
	}
	if err := c.Audit.validate(); err != nil {
		return err
	}
	if err := c.Privacy.validate(); err != nil {
		return err
	}
	if err := c.Homework.validate(); err != nil {
		return err
	}
	return c.validatePortal()
}

// Engine is the policy engine this configuration asks for: the SIZE-20MB
// limit and the [bounds] overrides.
func (c *Config) Engine() (*policy.Engine, error) {
	e := policy.NewEngine()
	e.MaxTransferBytes = c.Policy.MaxTransferBytes
	for k, v := range c.Bounds {
		if err := e.SetBound(policy.BoundKey(k), v); err != nil {
			return nil, err
		}
	}
	return e, nil
}
