package doctor

import (
	"fmt"
	"path/filepath"

	"schulhof/store"
)

// checkBlobs compares the blob directory with the reference counts and
// the counts with the references: every missing or damaged blob and every
// count below its references is named (FEHLER); uncounted files (the next
// start removes them) and counts above the references are a WARNUNG.
func checkBlobs(st *store.Store) []Finding {
	const check = "blobs"
	r, err := st.CheckBlobs()
	if err != nil {
		return []Finding{finding(check, Fail, "blobs.error", err)}
	}
	paths := func(hs []string) string {
		ps := make([]string, len(hs))
		for i, h := range hs {
			ps[i] = h
			if len(h) > 2 {
				ps[i] = filepath.Join("blobs", h[:2], h[2:])
			}
		}
		return list(ps, 10)
	}
	var out []Finding
	// A content-addressed key names a blob file; a sequenced one inline
	// mail, whose absence means a damaged database.
	var files, inline []string
	for _, h := range r.Missing {
		if len(h) == 64 {
			files = append(files, h)
		} else {
			inline = append(inline, h)
		}
	}
	if len(files) > 0 {
		out = append(out, finding(check, Fail, "blobs.missing", len(files), paths(files), st.Dir()))
	}
	if len(inline) > 0 {
		out = append(out, finding(check, Fail, "blobs.inlinemissing", len(inline), list(inline, 10)))
	}
	if len(r.WrongHash) > 0 {
		out = append(out, finding(check, Fail, "blobs.damaged", len(r.WrongHash), paths(r.WrongHash), st.Dir()))
	}
	mismatches := func(ms []store.RefMismatch) string {
		ps := make([]string, len(ms))
		for i, m := range ms {
			ps[i] = fmt.Sprintf("%s (%d/%d)", m.Hash, m.Counted, m.Found)
		}
		return list(ps, 5)
	}
	if len(r.Undercounted) > 0 {
		out = append(out, finding(check, Fail, "blobs.undercounted", len(r.Undercounted), mismatches(r.Undercounted)))
	}
	if len(r.Overcounted) > 0 {
		out = append(out, finding(check, Warn, "blobs.overcounted", len(r.Overcounted), mismatches(r.Overcounted)))
	}
	if len(r.Orphans) > 0 {
		out = append(out, finding(check, Warn, "blobs.orphans", len(r.Orphans), paths(r.Orphans)))
	}
	if len(out) == 0 {
		out = append(out, finding(check, OK, "blobs.ok", r.Counted, r.Files, size(r.Bytes), r.Inline))
	}
	return out
}
