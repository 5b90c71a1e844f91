package web

import (
	"html/template"
	"net"
	"net/http"
	"net/url"

	"schulhof/internal/auth"
	"schulhof/policy"
)

// passwordPage is the one page every new account needs: with a one-time
// password (PW-MUST-CHANGE) mail and files refuse the login until the user
// has chosen her own password here.
var passwordPage = template.Must(template.New("pw").Parse(`<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Passwort ändern – Schulhof</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}.err{color:#a00}.ok{color:#060}</style></head>
<body><h1>Passwort ändern</h1>
{{if .Done}}<p class="ok">Das Passwort wurde geändert. Sie können sich jetzt in E-Mail und Dateien damit anmelden.</p>
{{else}}{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<p>Mindestens 8 Zeichen mit Groß- und Kleinbuchstaben, Ziffern und Sonderzeichen; nicht Ihr Name.</p>
<form method="post" action="">
<label>Konto oder E-Mail-Adresse<input name="account" autocomplete="username" required value="{{.Account}}"></label>
<label>Bisheriges Passwort<input name="current" type="password" autocomplete="current-password" required></label>
<label>Neues Passwort<input name="new" type="password" autocomplete="new-password" required minlength="8"></label>
<label>Neues Passwort wiederholen<input name="repeat" type="password" autocomplete="new-password" required minlength="8"></label>
<button type="submit">Passwort ändern</button>
</form>{{end}}</body></html>
`))

type passwordView struct {
	Account, Error string
	Done           bool
}

// PasswordHandler serves the password change form (GET) and carries out
// the change (POST) through the one authentication path.
func PasswordHandler(v *auth.Verifier, pol *policy.Engine) http.Handler {
	if pol == nil {
		pol = policy.NewEngine()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			passwordPage.Execute(w, passwordView{})
			return
		case http.MethodPost:
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if !sameOrigin(r) {
			http.Error(w, "[CSRF] Formular von fremder Seite abgelehnt.", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, pol.Bound(policy.FormBodyBytes))
		if err := r.ParseForm(); err != nil {
			http.Error(w, "Ungültiges Formular.", http.StatusBadRequest)
			return
		}
		view := passwordView{Account: r.PostForm.Get("account")}
		if r.PostForm.Get("new") != r.PostForm.Get("repeat") {
			view.Error = "Die beiden neuen Passwörter stimmen nicht überein."
			w.WriteHeader(http.StatusUnprocessableEntity)
			passwordPage.Execute(w, view)
			return
		}
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		d := v.ChangePassword(r.Context(), auth.Attempt{Name: view.Account, Password: r.PostForm.Get("current"),
			Protocol: "web", IP: ip, Service: policy.ServiceWeb}, r.PostForm.Get("new"))
		if !d.Allow {
			view.Error = d.String()
			w.WriteHeader(passwordStatus(w, d))
			passwordPage.Execute(w, view)
			return
		}
		view.Done = true
		passwordPage.Execute(w, view)
	})
}

// passwordStatus maps a refusal to its HTTP status (and headers): a
// throttled attempt is temporary, 429 with the time to wait.
func passwordStatus(w http.ResponseWriter, d policy.Decision) int {
	switch d.Rule {
	case policy.PWStrength:
		return http.StatusUnprocessableEntity
	case policy.AuthThrottle:
		w.Header().Set("Retry-After", "60")
		return http.StatusTooManyRequests
	}
	return http.StatusForbidden
}

// sameOrigin accepts a form post only from this host's own page: Origin
// (or, without it, Referer) must name the host the request was sent to.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return true // not a browser (curl, tests): no ambient credentials to abuse
	}
	u, err := url.Parse(src)
	return err == nil && u.Host == r.Host
}
