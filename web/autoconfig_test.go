package web

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func autoconfigTestHandler() http.Handler {
	return AutoconfigHandler(AutoconfigOptions{Domain: "Schule.Test", Hostname: "mail.schule.test", SubmissionPort: 2587})
}

func autoconfigDo(t *testing.T, h http.Handler, method, target, host, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if host != "" {
		r.Host = host
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestAutoconfigThunderbird(t *testing.T) {
	h := autoconfigTestHandler()
	for _, tc := range []struct{ target, host string }{
		{"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=max.mueller%40schule.test", "schule.test"},
		{"/mail/config-v1.1.xml?emailaddress=Max.Mueller%40SCHULE.TEST", "autoconfig.schule.test"},
		{"/mail/config-v1.1.xml", "autoconfig.schule.test"},
	} {
		w := autoconfigDo(t, h, "GET", tc.target, tc.host, "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/xml") {
			t.Fatalf("%s: %d %s", tc.target, w.Code, w.Body)
		}
		var cfg struct {
			Version  string `xml:"version,attr"`
			Provider struct {
				ID       string `xml:"id,attr"`
				Domain   string `xml:"domain"`
				Incoming []struct {
					Type       string `xml:"type,attr"`
					Hostname   string `xml:"hostname"`
					Port       int    `xml:"port"`
					SocketType string `xml:"socketType"`
					Auth       string `xml:"authentication"`
					Username   string `xml:"username"`
				} `xml:"incomingServer"`
				Outgoing []struct {
					Type       string `xml:"type,attr"`
					Hostname   string `xml:"hostname"`
					Port       int    `xml:"port"`
					SocketType string `xml:"socketType"`
					Username   string `xml:"username"`
				} `xml:"outgoingServer"`
			} `xml:"emailProvider"`
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &cfg); err != nil {
			t.Fatal(err)
		}
		p := cfg.Provider
		if cfg.Version != "1.1" || p.Domain != "schule.test" || len(p.Incoming) != 1 || len(p.Outgoing) != 2 {
			t.Fatalf("config: %+v", cfg)
		}
		in := p.Incoming[0]
		if in.Type != "imap" || in.Hostname != "mail.schule.test" || in.Port != 993 || in.SocketType != "SSL" ||
			in.Auth != "password-cleartext" || in.Username != "%EMAILADDRESS%" {
			t.Errorf("incoming: %+v", in)
		}
		if o := p.Outgoing[0]; o.Type != "smtp" || o.Port != 465 || o.SocketType != "SSL" || o.Hostname != "mail.schule.test" {
			t.Errorf("outgoing 465: %+v", o)
		}
		if o := p.Outgoing[1]; o.Port != 2587 || o.SocketType != "STARTTLS" {
			t.Errorf("outgoing 587: %+v", o)
		}
	}
	if w := autoconfigDo(t, h, "GET", "/mail/config-v1.1.xml?emailaddress=max%40evil.example", "", ""); w.Code != 404 {
		t.Errorf("foreign address: %d", w.Code)
	}
	if w := autoconfigDo(t, h, "POST", "/mail/config-v1.1.xml", "", ""); w.Code != 405 {
		t.Errorf("POST: %d", w.Code)
	}
	if w := autoconfigDo(t, h, "GET", "/mail/other.xml", "", ""); w.Code != 404 {
		t.Errorf("other path: %d", w.Code)
	}
}

const autodiscoverRequest = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>%s</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`

func TestAutodiscoverOutlook(t *testing.T) {
	h := autoconfigTestHandler()
	for _, path := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml", "/AUTODISCOVER/AUTODISCOVER.XML"} {
		w := autoconfigDo(t, h, "POST", path, "autodiscover.schule.test", strings.Replace(autodiscoverRequest, "%s", "Max.Mueller@schule.test", 1))
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		var resp struct {
			XMLName  xml.Name
			Response struct {
				XMLName xml.Name
				Account struct {
					AccountType string `xml:"AccountType"`
					Action      string `xml:"Action"`
					Protocols   []struct {
						Type, Server, LoginName, SSL, AuthRequired, Encryption string
						Port                                                   int
					} `xml:"Protocol"`
				} `xml:"Account"`
			} `xml:"Response"`
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.XMLName.Space != autodiscoverResponseNS || resp.Response.XMLName.Space != autodiscoverOutlookNS {
			t.Errorf("namespaces: %v %v", resp.XMLName, resp.Response.XMLName)
		}
		a := resp.Response.Account
		if a.AccountType != "email" || a.Action != "settings" || len(a.Protocols) != 2 {
			t.Fatalf("account: %+v", a)
		}
		imap, smtp := a.Protocols[0], a.Protocols[1]
		if imap.Type != "IMAP" || imap.Port != 993 || imap.SSL != "on" || imap.Server != "mail.schule.test" || imap.LoginName != "max.mueller@schule.test" {
			t.Errorf("imap: %+v", imap)
		}
		if smtp.Type != "SMTP" || smtp.Port != 465 || smtp.SSL != "on" || smtp.AuthRequired != "on" || smtp.LoginName != "max.mueller@schule.test" {
			t.Errorf("smtp: %+v", smtp)
		}
	}

	// STARTTLS only: Encryption TLS.
	h2 := AutoconfigHandler(AutoconfigOptions{Domain: "schule.test", SubmissionsPort: -1})
	w := autoconfigDo(t, h2, "POST", "/autodiscover/autodiscover.xml", "", strings.Replace(autodiscoverRequest, "%s", "a.b@schule.test", 1))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<Port>587</Port>") || !strings.Contains(w.Body.String(), "<Encryption>TLS</Encryption>") {
		t.Errorf("587 only: %d %s", w.Code, w.Body)
	}

	bad := []struct {
		name, method, body string
		code               int
	}{
		{"GET", "GET", "", 405},
		{"foreign address", "POST", strings.Replace(autodiscoverRequest, "%s", "max@evil.example", 1), 404},
		{"subdomain address", "POST", strings.Replace(autodiscoverRequest, "%s", "max@x.schule.test", 1), 404},
		{"two at signs", "POST", strings.Replace(autodiscoverRequest, "%s", "max@evil.example@schule.test", 1), 404},
		{"no address", "POST", `<Autodiscover><Request></Request></Autodiscover>`, 400},
		{"empty body", "POST", "", 400},
		{"not XML", "POST", "hello", 400},
		{"too large", "POST", "<Autodiscover>" + strings.Repeat("x", 20000) + "</Autodiscover>", 413},
		{"too deep", "POST", strings.Repeat("<a>", 50) + strings.Repeat("</a>", 50), 400},
		{"too many tokens", "POST", "<Autodiscover>" + strings.Repeat("<x/>", 300) + "</Autodiscover>", 400},
		{"long address", "POST", strings.Replace(autodiscoverRequest, "%s", strings.Repeat("a", 400)+"@schule.test", 1), 400},
		{"entity", "POST", `<!DOCTYPE a [<!ENTITY e "max@schule.test">]><Autodiscover><Request><EMailAddress>&e;</EMailAddress></Request></Autodiscover>`, 400},
		{"external entity", "POST", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><Autodiscover><Request><EMailAddress>&e;</EMailAddress></Request></Autodiscover>`, 400},
	}
	for _, tc := range bad {
		if w := autoconfigDo(t, h, tc.method, "/autodiscover/autodiscover.xml", "", tc.body); w.Code != tc.code {
			t.Errorf("%s: %d, want %d (%s)", tc.name, w.Code, tc.code, w.Body)
		}
	}
}

func TestAutodiscoverJSON(t *testing.T) {
	h := autoconfigTestHandler()
	w := autoconfigDo(t, h, "GET", "/autodiscover/autodiscover.json?Email=max.mueller@schule.test&Protocol=AutodiscoverV1", "autodiscover.schule.test", "")
	var v struct{ Protocol, Url string }
	if err := json.Unmarshal(w.Body.Bytes(), &v); w.Code != 200 || err != nil || v.Url != "https://autodiscover.schule.test/autodiscover/autodiscover.xml" {
		t.Errorf("%d %s %v", w.Code, w.Body, err)
	}
	// A hostile Host header is not echoed.
	w = autoconfigDo(t, h, "GET", "/autodiscover/autodiscover.json?Protocol=AutodiscoverV1", "evil.example", "")
	if !strings.Contains(w.Body.String(), "https://mail.schule.test/") {
		t.Errorf("hostile host: %s", w.Body)
	}
	if w := autoconfigDo(t, h, "GET", "/autodiscover/autodiscover.json?Protocol=ActiveSync", "", ""); w.Code != 404 {
		t.Errorf("ActiveSync: %d", w.Code)
	}
}

func TestMobileconfig(t *testing.T) {
	h := autoconfigTestHandler()
	w := autoconfigDo(t, h, "GET", "/mobileconfig?address=Max.Mueller@schule.test", "", "")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-apple-aspen-config" ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "max.mueller.mobileconfig") {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	plist := autoconfigParsePlist(t, w.Body.String())
	if plist["PayloadType"] != "Configuration" || plist["PayloadVersion"] != "1" {
		t.Errorf("profile: %v", plist)
	}
	acc := autoconfigParsePlist(t, w.Body.String()[strings.Index(w.Body.String(), "<array>")+len("<array>"):])
	want := map[string]string{
		"PayloadType": "com.apple.mail.managed", "EmailAccountType": "EmailTypeIMAP", "EmailAddress": "max.mueller@schule.test",
		"IncomingMailServerHostName": "mail.schule.test", "IncomingMailServerPortNumber": "993", "IncomingMailServerUseSSL": "true",
		"IncomingMailServerUsername": "max.mueller@schule.test", "OutgoingMailServerPortNumber": "465", "OutgoingMailServerUseSSL": "true",
		"OutgoingMailServerHostName": "mail.schule.test", "OutgoingPasswordSameAsIncomingPassword": "true",
		"IncomingMailServerAuthentication": "EmailAuthPassword",
	}
	for k, v := range want {
		if acc[k] != v {
			t.Errorf("%s = %q, want %q", k, acc[k], v)
		}
	}
	for k := range acc {
		if strings.Contains(strings.ToLower(k), "password") && k != "OutgoingPasswordSameAsIncomingPassword" {
			t.Errorf("profile contains %s", k)
		}
	}
	// The same profile again: same UUIDs, so it replaces the installed one.
	w2 := autoconfigDo(t, h, "GET", "/mobileconfig?address=max.mueller@schule.test", "", "")
	if w2.Body.String() != w.Body.String() {
		t.Error("profile differs between downloads")
	}
	other := autoconfigDo(t, h, "GET", "/mobileconfig?address=eva.lang@schule.test", "", "")
	if autoconfigParsePlist(t, other.Body.String())["PayloadUUID"] == plist["PayloadUUID"] {
		t.Error("two accounts share a profile UUID")
	}
	for _, q := range []string{"", "?address=", "?address=max@evil.example", "?address=%3Cscript%3E@schule.test", "?address=a\"b@schule.test",
		"?address=" + strings.Repeat("a", 300) + "@schule.test"} {
		if w := autoconfigDo(t, h, "GET", "/mobileconfig"+q, "", ""); w.Code != 400 {
			t.Errorf("%q: %d", q, w.Code)
		}
	}
}

// autoconfigParsePlist reads the top-level <key>/<value> pairs of the first dict in
// s (nested dicts and arrays are skipped).
func autoconfigParsePlist(t *testing.T, s string) map[string]string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	out := map[string]string{}
	depth, inDict := 0, -1
	var key string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("plist: %v", err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			depth++
			if tt.Name.Local == "dict" && inDict < 0 {
				inDict = depth
				continue
			}
			if depth != inDict+1 || inDict < 0 {
				continue
			}
			switch tt.Name.Local {
			case "key":
				var k string
				d.DecodeElement(&k, &tt)
				key = k
				depth--
			case "string", "integer":
				var v string
				d.DecodeElement(&v, &tt)
				out[key] = v
				depth--
			case "true", "false":
				out[key] = tt.Name.Local
			}
		case xml.EndElement:
			if depth == inDict {
				return out
			}
			depth--
		}
	}
}

func TestAutoconfigMatch(t *testing.T) {
	for path, want := range map[string]bool{
		"/.well-known/autoconfig/mail/config-v1.1.xml": true, "/mail/config-v1.1.xml": true,
		"/AutoDiscover/AutoDiscover.xml": true, "/mobileconfig": true, "/dav/": false, "/": false,
	} {
		if got := AutoconfigMatch(httptest.NewRequest("GET", path, nil)); got != want {
			t.Errorf("%s: %v", path, got)
		}
	}
}

// FuzzAutodiscover: any request body gets a clean answer, and an address
// that is answered belongs to the school.
func FuzzAutodiscover(f *testing.F) {
	f.Add(strings.Replace(autodiscoverRequest, "%s", "max.mueller@schule.test", 1))
	f.Add(`<Autodiscover><Request><EMailAddress>a@schule.test</EMailAddress><EMailAddress>b@evil.example</EMailAddress></Request></Autodiscover>`)
	f.Add(`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`)
	f.Add("")
	h := autoconfigTestHandler()
	f.Fuzz(func(t *testing.T, body string) {
		w := autoconfigDo(t, h, "POST", "/autodiscover/autodiscover.xml", "", body)
		switch w.Code {
		case 200:
			if !strings.Contains(w.Body.String(), "@schule.test</LoginName>") {
				t.Errorf("answered without a school address: %s", w.Body)
			}
		case 400, 404, 413:
		default:
			t.Errorf("status %d", w.Code)
		}
	})
}
