package store

// Privacy provider "accounts": the account record (name, first and last
// name, password hash, role, lock state, consents, creation, last login,
// external ID, voluntary data) and the indexes beside it.

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       providerAccounts,
		Buckets:    [][]byte{bucketAccounts, bucketNames, bucketExtIDs},
		Categories: []int{CategoryRequired, CategoryAutomatic, CategorySchoolOrg, CategoryVoluntary},
		Keeps: "Vorname, Nachname, Account-Name (daraus die E-Mail-Adresse), Passwort nur als Prüfsumme, " +
			"Rolle, Sperrvermerk, Einwilligungen; Erstellungsdatum und Ersteller, letzter Login mit IP-Adresse; " +
			"die Kennung der Schulverwaltung; freiwillig: Spitzname, Farbe, persönliche Einstellungen. " +
			"Zu jeder Einwilligung: Tag der Unterschrift, wer unterschrieben hat, Version des Formulars, wer sie erfasst hat, " +
			"ein Widerruf mit Tag; das Geburtsdatum nur, wenn der Import es liefert (Kategorie 3: es entscheidet, wer unterschreiben muss); " +
			"bei Abgängern der Tag, an dem sie in der Importdatei fehlten. " +
			"Der Name selbst bleibt als vergebener Name gespeichert (names), damit er nie einer anderen Person gegeben wird.",
		Retention: "bis zum Widerruf der Einwilligung oder dem Ende der Schulzeit (Löschfrist für Abgänger); " +
			"der vergebene Name (names) dauerhaft, ohne weitere Daten",
		Erase: eraseAccountRecord,
	})
}

// eraseAccountRecord deletes the account record and its external ID; the
// name record stays (names are never given again). It runs last.
func eraseAccountRecord(s *Store, account string, r *ErasureReport) error {
	return s.eraseUpdate(r, func(t *Tx) error {
		a, err := t.Account(account)
		if err != nil {
			return err
		}
		if a.ExternalID != "" {
			if err := t.bucket(bucketExtIDs).Delete([]byte(a.ExternalID)); err != nil {
				return err
			}
			r.Add(providerAccounts, 1)
		}
		r.Add(providerAccounts, 1)
		t.publish(Event{Kind: AccountDeleted, Account: account})
		return t.bucket(bucketAccounts).Delete([]byte(account))
	})
}
