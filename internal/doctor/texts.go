package doctor

// The doctor's texts, German and English: {what was found, what to do}.
// %s are the finding's Args in order. The admin reads these; keep them
// short and concrete (a command, a file, a record to add).
type entry struct{ de, en [2]string }

var checkNames = map[string][2]string{
	"listeners":   {"Dienste", "Listeners"},
	"certificate": {"Zertifikat", "Certificate"},
	"dns":         {"DNS", "DNS"},
	"disk":        {"Speicherplatz", "Disk"},
	"database":    {"Datenbank", "Database"},
	"blobs":       {"Inhalte", "Blobs"},
	"backup":      {"Sicherung", "Backup"},
}

var catalog = map[string]entry{
	// listeners
	"listen.notrunning": {
		de: [2]string{"Der Server läuft nicht (keine Antwort am Admin-Socket); die Dienste wurden nicht geprüft.",
			"Starten: systemctl start schulhof (oder schulhof serve); danach schulhof doctor erneut aufrufen."},
		en: [2]string{"The server is not running (no answer on the admin socket); the listeners were not checked.",
			"Start it: systemctl start schulhof (or schulhof serve); then run schulhof doctor again."}},
	"listen.down": {
		de: [2]string{"%s (%s) antwortet nicht: %s",
			"Log prüfen (journalctl -u schulhof) und [listen] %[1]s in schulhof.toml; belegt ein anderes Programm den Port (ss -ltnp)?"},
		en: [2]string{"%s (%s) does not answer: %s",
			"Check the log (journalctl -u schulhof) and [listen] %[1]s in schulhof.toml; does another program hold the port (ss -ltnp)?"}},
	"listen.oldcert": {
		de: [2]string{"%s (%s) zeigt ein anderes Zertifikat (SHA-256 %s…) als die Datei (%s…).",
			"Neu laden: systemctl reload schulhof (oder kill -HUP <pid>); im Log steht, falls die neue Datei abgelehnt wird, warum."},
		en: [2]string{"%s (%s) presents another certificate (SHA-256 %s…) than the file (%s…).",
			"Reload: systemctl reload schulhof (or kill -HUP <pid>); if the new file is refused the log says why."}},
	"listen.ok": {
		de: [2]string{"%s (%s) antwortet, TLS mit dem Zertifikat aus der Datei.", ""},
		en: [2]string{"%s (%s) answers, TLS with the certificate from the file.", ""}},

	// certificate
	"cert.unreadable": {
		de: [2]string{"%s lässt sich nicht lesen: %s",
			"Pfad in [tls] cert prüfen; Rechte: der Benutzer schulhof muss die Datei lesen können (doctor als dieser Benutzer aufrufen: sudo -u schulhof schulhof doctor)."},
		en: [2]string{"%s cannot be read: %s",
			"Check the path in [tls] cert; permissions: the schulhof user must be able to read it (run doctor as that user: sudo -u schulhof schulhof doctor)."}},
	"cert.bad": {
		de: [2]string{"%s ist kein PEM-Zertifikat: %s",
			"Die vollständige Kette (fullchain.pem) in [tls] cert eintragen, danach systemctl reload schulhof."},
		en: [2]string{"%s is not a PEM certificate: %s",
			"Put the full chain (fullchain.pem) in [tls] cert, then systemctl reload schulhof."}},
	"cert.expired.files": {
		de: [2]string{"%s ist am %s abgelaufen: Clients verweigern die Verbindung.",
			"Erneuern: certbot renew, danach systemctl reload schulhof; den Deploy-Hook prüfen (README: Certificates)."},
		en: [2]string{"%s expired on %s: clients refuse to connect.",
			"Renew: certbot renew, then systemctl reload schulhof; check the deploy hook (README: Certificates)."}},
	"cert.expired.self": {
		de: [2]string{"Das selbstsignierte Zertifikat %s ist am %s abgelaufen.",
			"systemctl reload schulhof erneuert es sofort (der Server erneuert es sonst beim Start und täglich)."},
		en: [2]string{"The self-signed certificate %s expired on %s.",
			"systemctl reload schulhof renews it now (the server otherwise renews it at start and daily)."}},
	"cert.notyet": {
		de: [2]string{"%s gilt erst ab %s.", "Die Uhrzeit des Servers prüfen (timedatectl)."},
		en: [2]string{"%s is valid only from %s.", "Check the server's clock (timedatectl)."}},
	"cert.soon.files": {
		de: [2]string{"%s läuft am %s ab (noch %s Tage).",
			"certbot renew --dry-run zeigt, warum die Erneuerung nicht läuft; danach systemctl reload schulhof."},
		en: [2]string{"%s expires on %s (%s days left).",
			"certbot renew --dry-run shows why renewal is not running; then systemctl reload schulhof."}},
	"cert.soon.self": {
		de: [2]string{"Das selbstsignierte Zertifikat %s läuft am %s ab (noch %s Tage).",
			"systemctl reload schulhof erneuert es."},
		en: [2]string{"The self-signed certificate %s expires on %s (%s days left).",
			"systemctl reload schulhof renews it."}},
	"cert.valid": {
		de: [2]string{"gültig bis %s (noch %s Tage), Seriennummer %s, SHA-256 %s…", ""},
		en: [2]string{"valid until %s (%s days left), serial %s, SHA-256 %s…", ""}},
	"cert.noname": {
		de: [2]string{"Das Zertifikat gilt nicht für %s, den Namen, mit dem sich die Mail-Programme verbinden.",
			"Ein Zertifikat für diesen Namen ausstellen (certbot … -d %[1]s) oder [autoconfig] hostname auf einen Namen im Zertifikat setzen."},
		en: [2]string{"The certificate is not valid for %s, the name mail clients connect to.",
			"Get a certificate for that name (certbot … -d %[1]s) or set [autoconfig] hostname to a name in the certificate."}},
	"cert.othernames": {
		de: [2]string{"Das Zertifikat gilt nicht für %s: die automatische Einrichtung von Thunderbird scheitert dort.",
			"Den Namen ins Zertifikat aufnehmen: certbot … -d %[1]s, danach systemctl reload schulhof."},
		en: [2]string{"The certificate is not valid for %s: Thunderbird's automatic setup fails there.",
			"Add the name to the certificate: certbot … -d %[1]s, then systemctl reload schulhof."}},
	"cert.names": {
		de: [2]string{"gilt für %s", ""},
		en: [2]string{"valid for %s", ""}},
	"cert.selfsigned": {
		de: [2]string{"Das Zertifikat ist selbstsigniert: jedes Mail-Programm und jeder Browser warnt.",
			"Ein Zertifikat von Let's Encrypt einrichten (README: Certificates) und in [tls] cert/key eintragen."},
		en: [2]string{"The certificate is self-signed: every mail client and browser warns.",
			"Get a certificate from Let's Encrypt (README: Certificates) and set [tls] cert/key."}},

	// dns
	"dns.noautoconfig": {
		de: [2]string{"%s hat keinen A-, AAAA- oder CNAME-Eintrag: Thunderbird findet die Einstellungen nicht von selbst.",
			"Im DNS der Schule eintragen: %[2]s"},
		en: [2]string{"%s has no A, AAAA or CNAME record: Thunderbird does not find the settings by itself.",
			"Add to the school's DNS: %[2]s"}},
	"dns.autoconfig": {
		de: [2]string{"%s → %s", ""},
		en: [2]string{"%s → %s", ""}},
	"dns.nosrv": {
		de: [2]string{"%s hat keinen SRV-Eintrag: Mail-Programme finden den Server nicht von selbst.",
			"Im DNS der Schule eintragen: %[2]s"},
		en: [2]string{"%s has no SRV record: mail clients do not find the server by themselves.",
			"Add to the school's DNS: %[2]s"}},
	"dns.srv": {
		de: [2]string{"%s → %s", ""},
		en: [2]string{"%s → %s", ""}},
	"dns.srvwrong": {
		de: [2]string{"%s zeigt auf %s, nicht auf diesen Server.", "Den Eintrag ändern in: %[3]s"},
		en: [2]string{"%s points to %s, not to this server.", "Change the record to: %[3]s"}},
	"dns.failed": {
		de: [2]string{"Die DNS-Abfrage für %s ist gescheitert: %s",
			"Den DNS-Server prüfen (/etc/resolv.conf) oder mit --dns-server einen anderen fragen."},
		en: [2]string{"The DNS lookup for %s failed: %s",
			"Check the DNS server (/etc/resolv.conf) or ask another with --dns-server."}},

	// disk
	"disk.full": {
		de: [2]string{"Nur noch %s frei (Daten: %s): Zustellungen und Uploads scheitern bald.",
			"Sofort Platz schaffen (alte Sicherungen, Logs: journalctl --vacuum-size=200M) oder die Platte vergrößern."},
		en: [2]string{"Only %s free (data: %s): deliveries and uploads will fail soon.",
			"Free space now (old backups, logs: journalctl --vacuum-size=200M) or grow the disk."}},
	"disk.low": {
		de: [2]string{"%s frei, weniger als die Daten (%s): eine Sicherung auf dieselbe Platte oder ein Jahr Wachstum passt nicht.",
			"Die Platte vergrößern oder Sicherungen ([backup] dir) auf eine andere Platte legen."},
		en: [2]string{"%s free, less than the data (%s): a backup on the same disk or a year's growth does not fit.",
			"Grow the disk or put backups ([backup] dir) on another disk."}},
	"disk.ok": {
		de: [2]string{"%s frei von %s, Daten: %s", ""},
		en: [2]string{"%s free of %s, data: %s", ""}},
	"disk.error": {
		de: [2]string{"%s lässt sich nicht messen: %s", "Rechte prüfen: doctor als Benutzer schulhof aufrufen."},
		en: [2]string{"%s cannot be measured: %s", "Check permissions: run doctor as the schulhof user."}},

	// database
	"db.ok": {
		de: [2]string{"bbolt-Prüfung ohne Befund (Schema %s)", ""},
		en: [2]string{"bbolt check found nothing (schema %s)", ""}},
	"db.broken": {
		de: [2]string{"bbolt meldet %s Fehler: %s",
			"Server stoppen (systemctl stop schulhof), %[3]s beiseite kopieren und die letzte Sicherung zurückspielen: schulhof restore --from <Sicherung> --data <neues Verzeichnis>."},
		en: [2]string{"bbolt reports %s problems: %s",
			"Stop the server (systemctl stop schulhof), copy %[3]s aside and restore the latest backup: schulhof restore --from <backup> --data <new directory>."}},
	"db.missing": {
		de: [2]string{"In %s liegt keine Datenbank (schulhof.db).",
			"data_dir in schulhof.toml prüfen (oder --data); ein neuer Server legt sie beim ersten Start an."},
		en: [2]string{"%s holds no database (schulhof.db).",
			"Check data_dir in schulhof.toml (or --data); a new server creates it at its first start."}},
	"db.open": {
		de: [2]string{"Die Datenbank in %s lässt sich nicht öffnen: %s",
			"Läuft ein Server ohne Admin-Socket? Dann ihn neu starten (systemctl restart schulhof); sonst Rechte prüfen (sudo -u schulhof schulhof doctor)."},
		en: [2]string{"The database in %s cannot be opened: %s",
			"Is a server running without its admin socket? Then restart it (systemctl restart schulhof); else check permissions (sudo -u schulhof schulhof doctor)."}},

	// blobs
	"blobs.error": {
		de: [2]string{"Die Inhalte ließen sich nicht prüfen: %s", "Rechte prüfen: doctor als Benutzer schulhof aufrufen."},
		en: [2]string{"The blobs could not be checked: %s", "Check permissions: run doctor as the schulhof user."}},
	"blobs.missing": {
		de: [2]string{"%s Inhalte fehlen, Mails oder Dateien darauf lassen sich nicht mehr öffnen: %s",
			"Die Dateien aus der letzten Sicherung (schulhof backup verify <Sicherung>) an dieselbe Stelle unter %[3]s kopieren; der Name ist die SHA-256 des Inhalts."},
		en: [2]string{"%s blobs are missing, mails or files using them cannot be opened: %s",
			"Copy these files from the latest backup (schulhof backup verify <backup>) to the same place under %[3]s; the name is the content's SHA-256."}},
	"blobs.inlinemissing": {
		de: [2]string{"%s Nachrichten fehlen in der Datenbank, sie lassen sich nicht mehr öffnen: %s",
			"Die Datenbank ist beschädigt: die Platte prüfen (smartctl -a, dmesg), dann die letzte Sicherung prüfen (schulhof backup verify <Sicherung>) und mit schulhof restore in ein neues Datenverzeichnis zurückspielen."},
		en: [2]string{"%s messages are missing from the database and cannot be opened: %s",
			"The database is damaged: check the disk (smartctl -a, dmesg), then verify the latest backup (schulhof backup verify <backup>) and restore it into a new data directory with schulhof restore."}},
	"blobs.damaged": {
		de: [2]string{"%s Inhalte sind beschädigt (SHA-256 passt nicht zum Namen): %s",
			"Die Platte prüfen (smartctl -a, dmesg) und die Dateien aus der letzten Sicherung an dieselbe Stelle unter %[3]s kopieren."},
		en: [2]string{"%s blobs are damaged (the SHA-256 does not match the name): %s",
			"Check the disk (smartctl -a, dmesg) and copy these files from the latest backup to the same place under %[3]s."}},
	"blobs.undercounted": {
		de: [2]string{"%s Inhalte sind niedriger gezählt als ihre Verweise (gezählt/gefunden), sie würden gelöscht, solange sie noch gebraucht werden: %s",
			"Jetzt eine Sicherung anlegen (schulhof backup --to <Verzeichnis>), sie enthält die Inhalte; den Fehler mit dieser Ausgabe melden."},
		en: [2]string{"%s blobs are counted lower than their references (counted/found) and would be deleted while still in use: %s",
			"Take a backup now (schulhof backup --to <directory>), it holds the content; report the bug with this output."}},
	"blobs.overcounted": {
		de: [2]string{"%s Inhalte sind höher gezählt als ihre Verweise (gezählt/gefunden) und werden nie freigegeben: %s",
			"Es geht nur Platz verloren; den Fehler mit dieser Ausgabe melden."},
		en: [2]string{"%s blobs are counted higher than their references (counted/found) and are never freed: %s",
			"Only space is lost; report the bug with this output."}},
	"blobs.orphans": {
		de: [2]string{"%s Dateien ohne Verweis: %s",
			"Nichts zu tun: sie sind Reste eines Absturzes und werden beim nächsten Start entfernt (systemctl restart schulhof)."},
		en: [2]string{"%s files nothing refers to: %s",
			"Nothing to do: they are left over from a crash and are removed at the next start (systemctl restart schulhof)."}},
	"blobs.ok": {
		de: [2]string{"%s Inhalte geprüft (%s Dateien, %s; %s in der Datenbank), alle vorhanden und unversehrt", ""},
		en: [2]string{"%s blobs checked (%s files, %s; %s inline), all present and intact", ""}},

	// backup
	"backup.off": {
		de: [2]string{"Es sind keine Sicherungen eingerichtet ([backup] dir ist leer).",
			"In schulhof.toml [backup] dir = \"/var/backups/schulhof\" setzen (eine andere Platte ist besser) und systemctl restart schulhof."},
		en: [2]string{"No backups are set up ([backup] dir is empty).",
			"Set [backup] dir = \"/var/backups/schulhof\" in schulhof.toml (another disk is better) and systemctl restart schulhof."}},
	"backup.none": {
		de: [2]string{"In %s liegt keine vollständige Sicherung.",
			"Jetzt eine anlegen: schulhof backup --to %[1]s; läuft die nächtliche nicht, steht im Log warum (journalctl -u schulhof)."},
		en: [2]string{"%s holds no complete backup.",
			"Take one now: schulhof backup --to %[1]s; if the nightly one does not run, the log says why (journalctl -u schulhof)."}},
	"backup.error": {
		de: [2]string{"Die Sicherungen in %s lassen sich nicht lesen: %s", "Pfad und Rechte prüfen (sudo -u schulhof schulhof doctor)."},
		en: [2]string{"The backups in %s cannot be read: %s", "Check the path and permissions (sudo -u schulhof schulhof doctor)."}},
	"backup.old": {
		de: [2]string{"Die letzte Sicherung in %s ist vom %s (%s Stunden alt): die nächtliche Sicherung läuft nicht.",
			"Im Log nachsehen (journalctl -u schulhof | grep backup) und eine Sicherung anlegen: schulhof backup --to %[1]s"},
		en: [2]string{"The latest backup in %s is from %s (%s hours old): the nightly backup is not running.",
			"Look in the log (journalctl -u schulhof | grep backup) and take one: schulhof backup --to %[1]s"}},
	"backup.late": {
		de: [2]string{"Die letzte Sicherung in %s ist vom %s (%s Stunden alt), die letzte Nacht fehlt.",
			"Im Log nachsehen (journalctl -u schulhof | grep backup)."},
		en: [2]string{"The latest backup in %s is from %s (%s hours old): last night's is missing.",
			"Look in the log (journalctl -u schulhof | grep backup)."}},
	"backup.ok": {
		de: [2]string{"letzte Sicherung in %s vom %s (%s Stunden alt)", ""},
		en: [2]string{"latest backup in %s from %s (%s hours old)", ""}},
}
