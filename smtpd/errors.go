package smtpd

import (
	"fmt"

	"github.com/emersion/go-smtp"

	"schulhof/internal/metrics"
	"schulhof/policy"
)

var (
	sprintf = fmt.Sprintf
	sprint  = fmt.Sprint
)

// refusal is the one place where a policy decision becomes an SMTP reply
// (and is counted for the metrics).
// Every refusal is permanent (5xx): go-smtp turns plain errors into 451
// and clients would retry a refusal forever. The one exception is a
// throttled login: 454 is temporary, so a client retries later instead
// of asking the user for a new password (RFC 4954 section 6).
func (srv *Server) refusal(d policy.Decision) *smtp.SMTPError {
	srv.opt.Metrics.Refused(metrics.SMTP, d)
	code, enh := 550, smtp.EnhancedCode{5, 7, 1}
	switch d.Rule {
	case policy.Size20MB, policy.LimitHeader, policy.LimitMIME:
		code, enh = 552, smtp.EnhancedCode{5, 3, 4}
	case policy.MailMass:
		code, enh = 550, smtp.EnhancedCode{5, 7, 1}
	case policy.AuthThrottle:
		code, enh = 454, smtp.EnhancedCode{4, 7, 0}
	case policy.AuthFailed, policy.AccountLocked, policy.PWMustChange,
		policy.ConsentPlatform, policy.ConsentComms:
		code, enh = 535, smtp.EnhancedCode{5, 7, 8}
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: d.String()}
}

// authRefusal is refusal for AUTH: a login the rules refuse is 535
// (RFC 4954); MODULE-OFF keeps 5.7.1, a policy refusal, not bad
// credentials, and permanent: retrying does not help.
func (srv *Server) authRefusal(d policy.Decision) *smtp.SMTPError {
	r := srv.refusal(d)
	if d.Rule == policy.ModuleOff {
		r.Code = 535
	}
	return r
}

// refuse logs a refusal of the session's account and turns it into the
// reply.
func (s *session) refuse(d policy.Decision) *smtp.SMTPError {
	name := ""
	if s.account != nil {
		name = s.account.Name
	}
	s.log.Info("smtp refused", "account", name, "ip", s.remoteIP(), "rule", d.Rule, "reason", d.Reason)
	return s.srv.refusal(d)
}

var (
	errNeedAuth = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0},
		Message: "Bitte zuerst anmelden (AUTH); ohne Anmeldung wird keine E-Mail angenommen."}
	errNeedTLS = &smtp.SMTPError{Code: 538, EnhancedCode: smtp.EnhancedCode{5, 7, 11},
		Message: "Anmeldung nur über TLS (STARTTLS oder Port 465)."}
	errTemp = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Vorübergehender Fehler beim Speichern; bitte erneut senden."}
)

func unknownRecipient(addr string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: sprintf("Empfänger %s unbekannt.", addr)}
}
