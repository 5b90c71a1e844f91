package store

import (
	"slices"
	"time"
)

// The web sessions' part of an export: the browsers logged in to the
// portal now (since when, last seen, address, browser), in sitzungen.json.
// No session ID, key or CSRF token: they are secrets, not information
// about the person, and would open the session to whoever reads the zip.

func init() { registerExport("websessions", exportWebSessions) }

func exportWebSessions(s *Store, account string, out ExportSink) error {
	ss, err := s.SessionsOf(account)
	if err != nil {
		return err
	}
	slices.SortFunc(ss, func(a, b WebSession) int { return a.Created.Compare(b.Created) })
	type session struct {
		Created   time.Time `json:"angemeldet_seit"`
		LastSeen  time.Time `json:"zuletzt_gesehen"`
		IP        string    `json:"ip"`
		UserAgent string    `json:"browser,omitempty"`
	}
	list := []session{}
	for _, w := range ss {
		list = append(list, session{w.Created, w.LastSeen, w.IP, w.UserAgent})
	}
	return writeJSON(out, "sitzungen.json", list)
}
