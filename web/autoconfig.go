package web

// Mail client onboarding: a student types only her address and password,
// and the client finds IMAP and SMTP by itself. Three discovery schemes are
// served, all from the same AutoconfigOptions:
//
//	Thunderbird (and K-9, Evolution, …): GET /.well-known/autoconfig/mail/config-v1.1.xml
//	    and GET /mail/config-v1.1.xml, also on the host autoconfig.<domain>
//	Outlook: POST /autodiscover/autodiscover.xml (any case), and the v2
//	    lookup GET /autodiscover/autodiscover.json that points to it
//	Apple Mail (iOS, macOS): GET /mobileconfig?address=… — a configuration
//	    profile without password; the device asks for it when installing
//
// Requests are hostile input: bodies are size-bounded, the autodiscover XML
// is read with a token- and depth-bounded decoder, and every address must
// belong to the school's domain.

import (
	"crypto/sha1"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"schulhof/policy"
)

// AutoconfigOptions describe the mail service clients should be set up
// for. The lead passes the configured listeners and the public host name.
type AutoconfigOptions struct {
	Domain      string // the school's mail domain: addresses end in "@"+Domain
	Hostname    string // public host name of the IMAP and SMTP listeners (default Domain)
	DisplayName string // shown in the client's account list (default "Schulhof (<Domain>)")
	// Ports: 0 means the standard port; a negative port is not offered.
	IMAPPort        int // IMAP with implicit TLS (993)
	SubmissionsPort int // SMTP submission with implicit TLS (465)
	SubmissionPort  int // SMTP submission with STARTTLS (587)
}

// autoconfigMaxBody bounds an autodiscover request; Outlook's is < 1 KB.
const autoconfigMaxBody = 16 << 10

// AutoconfigHandler serves the client configuration endpoints described
// above; any other path is 404. Use AutoconfigMatch to route to it.
func AutoconfigHandler(o AutoconfigOptions) http.Handler {
	o = o.autoconfigDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		switch autoconfigRoute(r.URL.Path) {
		case "thunderbird":
			o.autoconfigThunderbird(w, r)
		case "autodiscover":
			o.autodiscoverOutlook(w, r)
		case "autodiscover-json":
			o.autodiscoverJSON(w, r)
		case "mobileconfig":
			o.mobileconfig(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// AutoconfigMatch reports whether AutoconfigHandler serves r's path, for
// a mux that must match the autodiscover path case-insensitively.
func AutoconfigMatch(r *http.Request) bool { return autoconfigRoute(r.URL.Path) != "" }

func autoconfigRoute(path string) string {
	switch strings.ToLower(path) {
	case "/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml":
		return "thunderbird"
	case "/autodiscover/autodiscover.xml":
		return "autodiscover"
	case "/autodiscover/autodiscover.json":
		return "autodiscover-json"
	case "/mobileconfig", "/mail/schulhof.mobileconfig":
		return "mobileconfig"
	}
	return ""
}

func (o AutoconfigOptions) autoconfigDefaults() AutoconfigOptions {
	if d, ok := policy.NormalizeDomain(o.Domain); ok {
		o.Domain = d
	}
	if o.Hostname == "" {
		o.Hostname = o.Domain
	}
	if o.DisplayName == "" {
		o.DisplayName = "Schulhof (" + o.Domain + ")"
	}
	for _, p := range []struct {
		port *int
		std  int
	}{{&o.IMAPPort, 993}, {&o.SubmissionsPort, 465}, {&o.SubmissionPort, 587}} {
		if *p.port == 0 {
			*p.port = p.std
		}
	}
	return o
}

// autoconfigAddress checks that s is an address of the school's domain and
// returns it in lower case.
func (o AutoconfigOptions) autoconfigAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 254 {
		return "", errors.New("address too long")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return "", errors.New("not an e-mail address")
	}
	for _, c := range []byte(local) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_+", c) >= 0) {
			return "", errors.New("not an e-mail address of the school")
		}
	}
	if d, ok := policy.NormalizeDomain(domain); !ok || d != o.Domain || strings.ContainsAny(domain, "/:") {
		return "", errors.New("not an e-mail address of the school")
	}
	return strings.ToLower(local) + "@" + o.Domain, nil
}

// --- Thunderbird -----------------------------------------------------------

type autoconfigClientConfig struct {
	XMLName  xml.Name                `xml:"clientConfig"`
	Version  string                  `xml:"version,attr"`
	Provider autoconfigEmailProvider `xml:"emailProvider"`
}

type autoconfigEmailProvider struct {
	ID               string             `xml:"id,attr"`
	Domain           string             `xml:"domain"`
	DisplayName      string             `xml:"displayName"`
	DisplayShortName string             `xml:"displayShortName"`
	Incoming         []autoconfigServer `xml:"incomingServer"`
	Outgoing         []autoconfigServer `xml:"outgoingServer"`
}

type autoconfigServer struct {
	Type           string `xml:"type,attr"`
	Hostname       string `xml:"hostname"`
	Port           int    `xml:"port"`
	SocketType     string `xml:"socketType"` // SSL (implicit TLS) or STARTTLS
	Authentication string `xml:"authentication"`
	Username       string `xml:"username"`
}

func (o AutoconfigOptions) autoconfigThunderbird(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Thunderbird sends ?emailaddress=; a foreign address gets nothing, so
	// the client goes on to its other sources.
	if a := r.URL.Query().Get("emailaddress"); a != "" {
		if _, err := o.autoconfigAddress(a); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
	}
	server := func(typ string, port int, socket string) autoconfigServer {
		return autoconfigServer{Type: typ, Hostname: o.Hostname, Port: port, SocketType: socket,
			Authentication: "password-cleartext", Username: "%EMAILADDRESS%"}
	}
	p := autoconfigEmailProvider{ID: o.Domain, Domain: o.Domain, DisplayName: o.DisplayName, DisplayShortName: "Schulhof"}
	if o.IMAPPort > 0 {
		p.Incoming = append(p.Incoming, server("imap", o.IMAPPort, "SSL"))
	}
	if o.SubmissionsPort > 0 {
		p.Outgoing = append(p.Outgoing, server("smtp", o.SubmissionsPort, "SSL"))
	}
	if o.SubmissionPort > 0 {
		p.Outgoing = append(p.Outgoing, server("smtp", o.SubmissionPort, "STARTTLS"))
	}
	autoconfigWriteXML(w, "application/xml; charset=utf-8", autoconfigClientConfig{Version: "1.1", Provider: p})
}

func autoconfigWriteXML(w http.ResponseWriter, contentType string, v any) {
	out, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	io.WriteString(w, xml.Header)
	w.Write(out)
	io.WriteString(w, "\n")
}

// --- Outlook ---------------------------------------------------------------

const (
	autodiscoverResponseNS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	autodiscoverOutlookNS  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

type autodiscoverResponse struct {
	XMLName  xml.Name             `xml:"Autodiscover"`
	NS       string               `xml:"xmlns,attr"`
	Response autodiscoverOutlookR `xml:"Response"`
}

type autodiscoverOutlookR struct {
	NS      string              `xml:"xmlns,attr"`
	User    autodiscoverUser    `xml:"User"`
	Account autodiscoverAccount `xml:"Account"`
}

type autodiscoverUser struct {
	DisplayName string `xml:"DisplayName"`
	EMail       string `xml:"AutoDiscoverSMTPAddress"`
}

type autodiscoverAccount struct {
	AccountType string                 `xml:"AccountType"`
	Action      string                 `xml:"Action"`
	Protocols   []autodiscoverProtocol `xml:"Protocol"`
}

type autodiscoverProtocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           int    `xml:"Port"`
	LoginName      string `xml:"LoginName"`
	DomainRequired string `xml:"DomainRequired"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	Encryption     string `xml:"Encryption,omitempty"` // "TLS": STARTTLS
	AuthRequired   string `xml:"AuthRequired"`
	UsePOPAuth     string `xml:"UsePOPAuth,omitempty"`
	SMTPLast       string `xml:"SMTPLast,omitempty"`
}

func (o AutoconfigOptions) autodiscoverOutlook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	raw, err := autodiscoverRequestAddress(http.MaxBytesReader(w, r.Body, autoconfigMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad autodiscover request: "+err.Error(), http.StatusBadRequest)
		return
	}
	addr, err := o.autoconfigAddress(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	proto := func(typ string, port int) autodiscoverProtocol {
		return autodiscoverProtocol{Type: typ, Server: o.Hostname, Port: port, LoginName: addr,
			DomainRequired: "off", SPA: "off", SSL: "on", AuthRequired: "on"}
	}
	acc := autodiscoverAccount{AccountType: "email", Action: "settings"}
	if o.IMAPPort > 0 {
		acc.Protocols = append(acc.Protocols, proto("IMAP", o.IMAPPort))
	}
	// Outlook takes the first SMTP entry: implicit TLS if offered.
	if o.SubmissionsPort > 0 {
		p := proto("SMTP", o.SubmissionsPort)
		p.UsePOPAuth, p.SMTPLast = "off", "off"
		acc.Protocols = append(acc.Protocols, p)
	} else if o.SubmissionPort > 0 {
		p := proto("SMTP", o.SubmissionPort)
		p.Encryption, p.UsePOPAuth, p.SMTPLast = "TLS", "off", "off"
		acc.Protocols = append(acc.Protocols, p)
	}
	autoconfigWriteXML(w, "application/xml; charset=utf-8", autodiscoverResponse{
		NS: autodiscoverResponseNS,
		Response: autodiscoverOutlookR{NS: autodiscoverOutlookNS,
			User: autodiscoverUser{DisplayName: addr, EMail: addr}, Account: acc},
	})
}

// autodiscoverRequestAddress reads the EMailAddress of an Outlook request
// (<Autodiscover><Request><EMailAddress>…) with a bounded decoder: a few
// hundred tokens, shallow nesting, short text. Go's decoder expands no
// custom entities, so entity tricks fail as syntax errors.
func autodiscoverRequestAddress(body io.Reader) (string, error) {
	const maxTokens, maxDepth, maxText = 256, 8, 320
	d := xml.NewDecoder(body)
	var path []string
	var addr string
	found := false
	for n := 0; ; n++ {
		if n >= maxTokens {
			return "", errors.New("too many XML tokens")
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if len(path) > maxDepth {
				return "", errors.New("XML nested too deeply")
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if strings.EqualFold(strings.Join(path, "/"), "Autodiscover/Request/EMailAddress") {
				if len(addr)+len(t) > maxText {
					return "", errors.New("EMailAddress too long")
				}
				addr += string(t)
				found = true
			}
		case xml.Directive:
			return "", errors.New("XML directives are not accepted")
		}
	}
	if !found {
		return "", errors.New("no Autodiscover/Request/EMailAddress")
	}
	return strings.TrimSpace(addr), nil
}

// autodiscoverJSON answers Outlook's v2 lookup
// (GET /autodiscover/autodiscover.json?Email=…&Protocol=AutodiscoverV1)
// with the URL of the XML endpoint.
func (o AutoconfigOptions) autodiscoverJSON(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if p := q.Get("Protocol"); p != "" && !strings.EqualFold(p, "AutodiscoverV1") {
		http.Error(w, "only AutodiscoverV1 is offered", http.StatusNotFound)
		return
	}
	if e := q.Get("Email"); e != "" {
		if _, err := o.autoconfigAddress(e); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"Protocol": "AutodiscoverV1",
		"Url":      "https://" + autoconfigHost(r, o) + "/autodiscover/autodiscover.xml",
	})
}

// autoconfigHost is the host the client reached us by, if it is one of
// ours, else the configured host name (never echo a hostile Host).
func autoconfigHost(r *http.Request, o AutoconfigOptions) string {
	h := strings.ToLower(r.Host)
	for _, ok := range []string{o.Hostname, o.Domain, "autodiscover." + o.Domain, "autoconfig." + o.Domain} {
		if h == ok || strings.HasPrefix(h, ok+":") && strings.Trim(h[len(ok)+1:], "0123456789") == "" {
			return h
		}
	}
	return o.Hostname
}

// --- Apple -----------------------------------------------------------------

// mobileconfig serves an unsigned configuration profile for one address.
// It holds no password: the device asks for it while installing.
func (o AutoconfigOptions) mobileconfig(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	addr, err := o.autoconfigAddress(r.URL.Query().Get("address"))
	if err != nil {
		http.Error(w, "?address= must be an e-mail address of "+o.Domain, http.StatusBadRequest)
		return
	}
	local, _, _ := strings.Cut(addr, "@")
	ident := mobileconfigReverse(o.Domain) + ".schulhof.mail." + strings.NewReplacer(".", "-", "+", "-").Replace(local)

	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString("<plist version=\"1.0\">\n<dict>\n<key>PayloadContent</key>\n<array>\n<dict>\n")
	kv := func(k string, v any) {
		fmt.Fprintf(&b, "<key>%s</key>", k)
		switch v := v.(type) {
		case string:
			b.WriteString("<string>")
			xml.EscapeText(&b, []byte(v))
			b.WriteString("</string>")
		case int:
			fmt.Fprintf(&b, "<integer>%d</integer>", v)
		case bool:
			fmt.Fprintf(&b, "<%t/>", v)
		}
		b.WriteString("\n")
	}
	smtpPort, smtpSSL := o.SubmissionsPort, true
	if smtpPort <= 0 {
		smtpPort, smtpSSL = o.SubmissionPort, false // STARTTLS: Apple Mail upgrades by itself
	}
	kv("EmailAccountDescription", o.DisplayName)
	kv("EmailAccountName", addr)
	kv("EmailAccountType", "EmailTypeIMAP")
	kv("EmailAddress", addr)
	kv("IncomingMailServerAuthentication", "EmailAuthPassword")
	kv("IncomingMailServerHostName", o.Hostname)
	kv("IncomingMailServerPortNumber", o.IMAPPort)
	kv("IncomingMailServerUseSSL", true)
	kv("IncomingMailServerUsername", addr)
	kv("OutgoingMailServerAuthentication", "EmailAuthPassword")
	kv("OutgoingMailServerHostName", o.Hostname)
	kv("OutgoingMailServerPortNumber", smtpPort)
	kv("OutgoingMailServerUseSSL", smtpSSL)
	kv("OutgoingMailServerUsername", addr)
	kv("OutgoingPasswordSameAsIncomingPassword", true)
	kv("PayloadDescription", "E-Mail-Konto "+addr)
	kv("PayloadDisplayName", "E-Mail "+addr)
	kv("PayloadIdentifier", ident+".account")
	kv("PayloadType", "com.apple.mail.managed")
	kv("PayloadUUID", mobileconfigUUID(addr+"/account"))
	kv("PayloadVersion", 1)
	kv("PreventAppSheet", false)
	kv("PreventMove", false)
	kv("SMIMEEnabled", false)
	b.WriteString("</dict>\n</array>\n")
	kv("PayloadDescription", "Richtet das Schul-E-Mail-Konto "+addr+" ein. Das Passwort fragt das Gerät bei der Installation ab.")
	kv("PayloadDisplayName", o.DisplayName)
	kv("PayloadIdentifier", ident)
	kv("PayloadOrganization", o.DisplayName)
	kv("PayloadRemovalDisallowed", false)
	kv("PayloadType", "Configuration")
	kv("PayloadUUID", mobileconfigUUID(addr))
	kv("PayloadVersion", 1)
	b.WriteString("</dict>\n</plist>\n")

	w.Header().Set("Content-Type", "application/x-apple-aspen-config")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(local, `"`, "")+`.mobileconfig"`)
	io.WriteString(w, b.String())
}

// mobileconfigReverse turns schule.example into example.schule.
func mobileconfigReverse(domain string) string {
	labels := strings.Split(domain, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

// mobileconfigUUID is a name-based (version 5) UUID, so that a profile
// downloaded again replaces the installed one instead of adding a second.
func mobileconfigUUID(name string) string {
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8} // URL namespace
	h := sha1.Sum(append(ns, "schulhof:mobileconfig:"+name...))
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
