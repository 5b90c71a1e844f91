package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"schulhof/internal/adminsock"
	"schulhof/internal/config"
	"schulhof/store"
)

func init() {
	register(&command{path: "backup", summary: "take a backup of the data directory (online: the server keeps serving)\n" +
		"Each backup is a folder DIR/<time>/ with the database, the blobs it references and a manifest\n" +
		"with checksums. Blobs already in an earlier backup in DIR are hard-linked unless --full.",
		flags: func(fs *flag.FlagSet) {
			fs.String("to", "", "backup directory (required)")
			fs.Bool("full", false, "copy every blob, link none")
			fs.Bool("raw", false, "copy the database page by page (faster; keeps erased values in freed pages)")
			fs.Bool("json", false, "print the manifest's summary as JSON")
		},
		// The server writes the backup: the directory is made absolute
		// here, where the admin typed it.
		client: func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
			c, _ := findCommand([]string{"backup"})
			fs, pos, err := c.parse(args)
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, c.help())
				return 0
			}
			if err != nil || str(fs, "to") == "" || len(pos) > 0 {
				fmt.Fprintln(stderr, "schulhof: backup: erwartet --to VERZEICHNIS [--full] (siehe --help)")
				return 2
			}
			to, err := filepath.Abs(str(fs, "to"))
			if err != nil {
				fmt.Fprintln(stderr, "schulhof:", err)
				return 1
			}
			req := adminsock.Request{Args: []string{"backup", "--to", to,
				"--full=" + str(fs, "full"), "--raw=" + str(fs, "raw"), "--json=" + str(fs, "json")}, Actor: osUser()}
			return callServer(cfg, req, stdout, stderr)
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments (the directory goes in --to)"); err != nil {
				return err
			}
			to := str(fs, "to")
			if to == "" {
				return usagef("backup: --to DIR fehlt")
			}
			res, err := e.svc.Store.Backup(to, store.BackupOptions{Full: boolean(fs, "full"), Raw: boolean(fs, "raw"), Actor: e.actor})
			if err != nil {
				return fmt.Errorf("Sicherung fehlgeschlagen: %w", err)
			}
			m := res.Manifest
			if boolean(fs, "json") {
				return e.printJSON(map[string]any{"path": res.Path, "created": m.Created, "schema": m.Schema,
					"full": m.Full, "counts": m.Counts, "bytes": m.Bytes})
			}
			e.printf("Sicherung fertig: %s\n", res.Path)
			e.printf("  Stand:      %s (Schema %d)\n", m.Created.Local().Format("2006-01-02 15:04:05"), m.Schema)
			e.printf("  Inhalt:     %d Konten, %d Postfächer, %d Nachrichten, %d Dateieinträge\n",
				m.Counts.Accounts, m.Counts.Mailboxes, m.Counts.Messages, m.Counts.FileEntries)
			e.printf("  Datenbank:  %s (mit %d kleinen Inhalten)\n", humanBytes(m.Bytes.DB), m.Counts.Inline)
			e.printf("  Blobs:      %d, %s; neu kopiert %s, aus früheren Sicherungen verlinkt %s\n",
				m.Counts.Blobs, humanBytes(m.Bytes.Blobs), humanBytes(m.Bytes.Copied), humanBytes(m.Bytes.Linked))
			return nil
		}})

	register(&command{path: "backup verify", args: "DIR[/<time>]",
		summary: "check a backup (or every backup in DIR): checksums, database, referenced blobs",
		client: func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
			c, _ := findCommand([]string{"backup", "verify"})
			_, pos, err := c.parse(args)
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, c.help())
				return 0
			}
			if err != nil || len(pos) != 1 {
				fmt.Fprintln(stderr, "schulhof: backup verify: erwartet DIR oder DIR/<Zeit>")
				return 2
			}
			rep, err := store.VerifyBackups(pos[0])
			if err != nil {
				fmt.Fprintln(stderr, "schulhof: backup verify:", err)
				return 1
			}
			for _, f := range rep.Findings {
				level := "WARNUNG"
				if f.Error {
					level = "FEHLER"
				}
				fmt.Fprintf(stdout, "%s  %s: %s\n", level, filepath.Base(f.Backup), f.Text)
			}
			fmt.Fprintf(stdout, "%d Sicherung(en) geprüft, %d Dateien, %s gelesen.\n", len(rep.Checked), rep.Files, humanBytes(rep.Bytes))
			if !rep.OK() {
				fmt.Fprintln(stdout, "Ergebnis: FEHLERHAFT – diese Sicherung nicht zum Wiederherstellen verwenden.")
				return 1
			}
			fmt.Fprintln(stdout, "Ergebnis: in Ordnung.")
			return 0
		}})

	register(&command{path: "restore", summary: "restore a backup into an empty data directory (--from DIR/<time> --data NEWDIR)\n" +
		"Given a backup directory, its newest backup is restored. A data directory that holds anything is refused.",
		flags: func(fs *flag.FlagSet) { fs.String("from", "", "the backup folder (or backup directory: its newest)") },
		client: func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
			c, _ := findCommand([]string{"restore"})
			fs, pos, err := c.parse(args)
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, c.help())
				return 0
			}
			if err != nil || len(pos) > 0 || str(fs, "from") == "" {
				fmt.Fprintln(stderr, "schulhof: restore: erwartet --from DIR/<Zeit> --data NEUES-VERZEICHNIS")
				return 2
			}
			from := str(fs, "from")
			if _, err := store.ReadBackupManifest(from); err != nil {
				latest, lerr := store.ListBackups(from)
				if lerr != nil || len(latest) == 0 {
					fmt.Fprintf(stderr, "schulhof: restore: %s ist keine vollständige Sicherung: %v\n", from, err)
					return 1
				}
				from = latest[len(latest)-1].Path
				fmt.Fprintf(stdout, "Neueste Sicherung in %s: %s\n", str(fs, "from"), filepath.Base(from))
			}
			m, err := store.RestoreBackup(from, cfg.DataDir)
			if errors.Is(err, store.ErrNotEmpty) {
				fmt.Fprintf(stderr, "schulhof: restore: %s ist nicht leer – nur in ein leeres Verzeichnis wiederherstellen (--data NEUES-VERZEICHNIS)\n", cfg.DataDir)
				return 1
			}
			if err != nil {
				fmt.Fprintln(stderr, "schulhof: restore fehlgeschlagen:", err)
				return 1
			}
			fmt.Fprintf(stdout, "Wiederhergestellt nach %s: Stand %s, %d Konten, %d Nachrichten, %d Dateieinträge, %d Blobs.\n",
				cfg.DataDir, m.Created.Local().Format("2006-01-02 15:04:05"), m.Counts.Accounts, m.Counts.Messages, m.Counts.FileEntries, m.Counts.Blobs)
			fmt.Fprintf(stdout, "Hinweis: Was nach %s gelöscht wurde, ist wieder da. Löschungen seitdem (Audit-Log) bitte wiederholen.\n",
				m.Created.Local().Format("2006-01-02 15:04"))
			return 0
		}})
}

// humanBytes prints sizes the way an admin reads them.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
