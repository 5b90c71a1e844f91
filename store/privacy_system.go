package store

// Privacy provider "system": buckets without personal data. They are named
// here so that the test that every bucket has a provider can tell a
// forgotten bucket from one that keeps nobody's data.

func init() {
	registerPrivacy(PrivacyProvider{
		Name:    "system",
		Buckets: [][]byte{bucketMeta, bucketBlocklist, bucketBlobRefs},
		Keeps: "keine personenbezogenen Daten: die Schema-Version der Datenbank (meta), " +
			"gesperrte Domains (blocklist) und Referenzzähler der Inhalte (blobrefs: Prüfsumme → Anzahl; " +
			"ein Zähler, der auf null fällt, geht mit seinem Inhalt)",
		Retention: "solange das System läuft",
	})
}
