package store

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// The README.txt at the top of every export: in German, for the pupil or
// the parents, one section per part: what it is, which category of the
// Nutzungsordnung it belongs to, why it is kept and for how long. Every
// exporter has a section here (TestEveryExporterHasReadme).

type exportDoc struct {
	Files    string // where in the zip
	Category int
	What     string
	Why      string
}

var exportDocs = map[string]exportDoc{
	"accounts": {"konto.json, einwilligungen.json, freiwillige-angaben.json", CategoryRequired,
		"Ihr Konto: Vor- und Nachname, Kontoname, Rolle, Sperrvermerke, wann und von wem das Konto " +
			"angelegt wurde, letzte Anmeldung, die Kennung aus der Schulverwaltung. In " +
			"einwilligungen.json stehen Ihre beiden Einwilligungen (Nutzung der Plattform; E-Mail, " +
			"Chat und Internet), mit Datum, wer sie gegeben hat und welche Fassung des Formulars, " +
			"soweit erfasst. In freiwillige-angaben.json stehen " +
			"Spitzname, Farbe und persönliche Einstellungen (Kategorie 6, freiwillig, ohne weitere " +
			"Funktion). Das Passwort ist nicht enthalten: es wird nur als Prüfsumme gespeichert.",
		"Ohne Konto ist keine Anmeldung möglich. Die Daten bleiben gespeichert, solange Sie die " +
			"Plattform nutzen; freiwillige Angaben können Sie unter „Mein Konto“ jederzeit ändern " +
			"oder leeren. Der Kontoname wird nie erneut vergeben."},
	"groups": {"gruppen.json", CategorySchoolOrg,
		"Ihre Gruppen (Klassen, Kurse, andere) und ob Sie Mitglied oder Lehrkraft sind. Die anderen " +
			"Mitglieder sind deren Daten und nicht enthalten.",
		"Die Gruppen bestimmen, welche Ordner, E-Mail-Verteiler und Chaträume Sie nutzen. Eine " +
			"Mitgliedschaft bleibt bis zum Austritt oder bis zum Ende der Schulzeit."},
	"audit": {"verwaltung.json", CategoryAutomatic,
		"Was Administration und Schulleitung an Ihrem Konto getan haben: wann, wer, was und mit " +
			"welcher Begründung (z. B. Konto angelegt, gesperrt, Passwort zurückgesetzt, Einwilligung " +
			"erfasst, Daten exportiert). Einsichten in Inhalte (Inaugenscheinnahme) stehen in einsichten.json.",
		"Damit jede Handlung der Administration nachvollziehbar und prüfbar bleibt. Die Einträge " +
			"bleiben dauerhaft; nach einer Löschung Ihres Kontos ohne Ihren Namen."},
	"inspections": {"einsichten.json", CategoryAutomatic,
		"Einsichten der Schulleitung in Ihre Protokolle, E-Mails oder Chats (Inaugenscheinnahme bei " +
			"Verdacht auf unzulässige Nutzung): Umfang, Grund, Aktenzeichen, wer sie beantragt und wer " +
			"sie genehmigt hat (zwei Prüfer), wann und bis wann. Über jede wurden Sie zu ihrem Beginn " +
			"mit einer Nachricht in Ihrem Posteingang informiert; ein noch nicht genehmigter Antrag " +
			"steht nicht hier.",
		"Die Nutzungsordnung erlaubt die Einsicht nur im Einzelfall und verlangt, Sie zu informieren; " +
			"der Eintrag belegt, wer wann was einsehen durfte."},
	"loginlog": {"anmeldeprotokoll.json", CategoryAutomatic,
		"Jeder Anmeldeversuch unter Ihrem Kontonamen: Zeit, Dienst (z. B. IMAP, Portal), " +
			"IP-Adresse, Ergebnis und bei einer Ablehnung die Regel, nach der abgelehnt wurde.",
		"Die Nutzungsordnung verlangt, Anmeldeversuche zu protokollieren (Dokumentation, Schutz " +
			"vor Missbrauch Ihres Kontos). Einträge werden nach der eingestellten Frist automatisch " +
			"gelöscht (Standard: 30 Tage)."},
	"mail": {"mail/<Ordner>/<Nummer>.eml, mail/ordner.json, mail/markierungen.json", CategoryTeaching,
		"Jede E-Mail in jedem Ihrer Ordner, genau so, wie sie gespeichert ist, als .eml-Datei. " +
			"Öffnen Sie sie mit einem E-Mail-Programm (Thunderbird, Outlook, Apple Mail). " +
			"Zeichen, die nicht jedes Betriebssystem in Dateinamen erlaubt, sind durch _ ersetzt. " +
			"ordner.json nennt jeden Ordner mit seinem echten Namen und ob er abonniert ist; " +
			"markierungen.json nennt je Nachricht den Eingang und ihre Markierungen (z. B. gelesen: \\Seen).",
		"E-Mail ist Kommunikation im Unterricht (Kategorie 4). Sie bleibt, bis Sie sie löschen, " +
			"Ihre Einwilligung widerrufen oder die Schule verlassen."},
	"files": {"dateien/ (Ihr Home-Verzeichnis), dateien-gruppen/<Gruppe>/ (von Ihnen hochgeladen), dateien-eigenschaften.json", CategoryTeaching,
		"Ihre Dateien aus dem Home-Verzeichnis mit allen Ordnern, unverändert; dazu die Dateien, " +
			"die Sie in Gruppenordner hochgeladen haben. dateien-eigenschaften.json enthält, was " +
			"Programme zusätzlich zu Dateien speichern (WebDAV-Eigenschaften, z. B. Zeitstempel von Windows).",
		"Dateien gehören zum Unterricht (Kategorie 4). Sie bleiben, bis Sie sie löschen, Ihre " +
			"Einwilligung widerrufen oder die Schule verlassen."},
	"chat": {"chat.json, chat-gelesen.json", CategoryTeaching,
		"Die Chat-Nachrichten, die Sie geschrieben haben, mit Raum, Zeit und Text; bearbeitete " +
			"mit ihrer letzten Fassung. Nachrichten anderer sind deren Daten und nicht enthalten. " +
			"chat-gelesen.json nennt je Raum, bis zu welcher Nachricht Sie gelesen haben.",
		"Chat ist Kommunikation im Unterricht (Kategorie 4). Nachrichten bleiben, bis Sie sie " +
			"löschen, Ihre Einwilligung widerrufen oder die Schule verlassen."},
	"chatreports": {"chat-meldungen.json", CategoryAutomatic,
		"Die Meldungen, die Sie über Chat-Nachrichten gemacht haben: wann, in welchem Raum, Ihr " +
			"Grund und ob sie erledigt ist. Die gemeldeten Nachrichten selbst stammen von anderen " +
			"und sind nicht enthalten.",
		"Damit die Schule einer Meldung nachgehen kann; jeder Blick in eine Meldung wird " +
			"protokolliert."},
	"calendar": {"kalender.json", CategorySchoolOrg,
		"Die Fassungen von Terminen in Gruppenkalendern, die Sie angelegt, geändert oder gelöscht " +
			"haben: Gruppe, Zeitpunkt, Titel, Ort, Beschreibung und Zeit des Termins. Fassungen " +
			"anderer sind deren Daten und nicht enthalten.",
		"Gruppenkalender gehören zur Schulorganisation. Jede Fassung bleibt erhalten, damit kein " +
			"Termin unbemerkt verändert wird, solange die Gruppe besteht; wird Ihr Konto gelöscht, " +
			"bleiben die Termine der Gruppe, Ihr Name wird daraus entfernt."},
	"homework": {"hausaufgaben/gestellt.json, hausaufgaben/abgaben/<Aufgabe>/ (abgabe.json und die abgegebenen Dateien)", CategoryTeaching,
		"Die Hausaufgaben, die Sie als Lehrkraft gestellt haben (Gruppe, Titel, Text, Anhänge, " +
			"Abgabetermin, Bestätigung der Ankündigung im Unterricht), und Ihre Abgaben: jede " +
			"abgegebene Datei mit Zeitpunkt und dem Vermerk „verspätet“, dazu die Rückmeldung der " +
			"Lehrkraft. Abgaben anderer sind deren Daten und nicht enthalten.",
		"Die Nutzungsordnung erlaubt, Hausaufgaben über den Schulserver zu stellen. Abgaben und " +
			"Rückmeldungen bleiben bis zum Widerruf der Einwilligung oder dem Ende der Schulzeit; " +
			"gestellte Aufgaben gehören der Gruppe, wird Ihr Konto gelöscht, wird Ihr Name daraus entfernt."},
	"forum": {"forum.json", CategoryModules,
		"Die Forumsbeiträge, die Sie geschrieben haben, mit Forum, Thema und Zeit; Beiträge, die " +
			"die Moderation gelöscht hat, stehen als Platzhalter mit dem Grund darin. Beiträge " +
			"anderer sind deren Daten und nicht enthalten.",
		"Das Forum ist ein Modul der Plattform (Kategorie 5); für Foren gelten die Regeln der " +
			"E-Mail. Beiträge bleiben, bis Ihre Einwilligung widerrufen wird oder Sie die Schule verlassen."},
	"exceptions": {"ausnahmen.json", CategorySchoolOrg,
		"Ausnahmen, die Ihnen eine Administratorin oder ein Administrator gewährt hat (größere " +
			"Dateien bis zu einem Datum), mit Grund.",
		"Damit nachvollziehbar ist, warum Ihnen mehr erlaubt war. Abgelaufene Ausnahmen werden " +
			"automatisch gelöscht."},
	"websessions": {"sitzungen.json", CategoryAutomatic,
		"Die Browser, in denen Sie gerade im Portal angemeldet sind: seit wann, zuletzt gesehen, " +
			"IP-Adresse und Browser. Die geheimen Sitzungskennungen sind nicht enthalten.",
		"Damit Sie angemeldet bleiben und unter „Mein Konto“ sehen und beenden können, wo Sie " +
			"angemeldet sind. Sitzungen enden beim Abmelden oder nach einigen Stunden."},
}

var categoryNames = map[int]string{
	CategoryRequired:  "1, notwendige Daten zur Nutzung",
	CategoryAutomatic: "2, automatisch erstellte Daten zur Dokumentation",
	CategorySchoolOrg: "3, notwendige Daten für die Schulorganisation",
	CategoryTeaching:  "4, notwendige Daten für den Unterricht",
	CategoryModules:   "5, Daten aus System-Modulen",
	CategoryVoluntary: "6, freiwillige Daten ohne weitere Funktion",
}

func writeExportReadme(w io.Writer, account string, names []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Auskunft über Ihre gespeicherten Daten (Art. 15 DSGVO)\r\n")
	fmt.Fprintf(&b, "======================================================\r\n\r\n")
	fmt.Fprintf(&b, "Konto: %s\r\nErstellt: %s\r\n\r\n", account, time.Now().Format("02.01.2006 15:04 MST"))
	b.WriteString("Dieses Archiv enthält alles, was der Schulserver über Sie speichert, geordnet\r\n" +
		"nach den Kategorien der Nutzungsordnung (\"Art der gespeicherten Daten\").\r\n" +
		"Daten anderer Personen sind nicht enthalten. JSON-Dateien lassen sich mit jedem\r\n" +
		"Texteditor öffnen. Bewahren Sie das Archiv sicher auf: es enthält Ihre E-Mails\r\n" +
		"und Dateien.\r\n")
	for _, n := range names {
		d, ok := exportDocs[n]
		if !ok {
			return fmt.Errorf("export %s: no README section", n)
		}
		fmt.Fprintf(&b, "\r\n%s\r\n%s\r\n", d.Files, strings.Repeat("-", min(len([]rune(d.Files)), 72)))
		fmt.Fprintf(&b, "Kategorie %s.\r\n", categoryNames[d.Category])
		wrap(&b, "Was: "+d.What)
		wrap(&b, "Warum und wie lange: "+d.Why)
		for _, p := range privacyProviders {
			if p.Name == n && p.Retention != "" {
				wrap(&b, "Aufbewahrung laut Verzeichnis der Daten: "+p.Retention+".")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap writes text in lines of at most 76 characters (CRLF: Windows'
// editor shows it right).
func wrap(b *strings.Builder, text string) {
	line := 0
	for i, word := range strings.Fields(text) {
		n := len([]rune(word))
		if i > 0 && line+1+n > 76 {
			b.WriteString("\r\n")
			line = 0
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteString("\r\n")
}
