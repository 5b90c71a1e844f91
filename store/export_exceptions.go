package store

import "time"

// The exceptions' part of an export: the size exceptions an admin granted
// the person (how large, until when, why), in ausnahmen.json.

func init() { registerExport("exceptions", exportExceptions) }

func exportExceptions(s *Store, account string, out ExportSink) error {
	xs, err := s.Exceptions(account)
	if err != nil {
		return err
	}
	type exception struct {
		Bytes     int64     `json:"bytes"`
		Until     time.Time `json:"bis"`
		Reason    string    `json:"grund"`
		CreatedAt time.Time `json:"erteilt_am"`
	}
	list := []exception{}
	for _, x := range xs {
		list = append(list, exception{x.Bytes, x.Until, x.Reason, x.CreatedAt})
	}
	return writeJSON(out, "ausnahmen.json", list)
}
