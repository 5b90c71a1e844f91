package davd

import (
	"net/http"
	"strings"

	"schulhof/policy"
)

// preflightCopy refuses a COPY of a folder that cannot fit before the
// library copies it entry by entry: the destination tree's entries and
// quota and the path depth are known from the folder's totals. Each entry
// is still checked when it is written (the authoritative, atomic check);
// this only spares a copy that would stop halfway.
func (u *userFS) preflightCopy(w http.ResponseWriter, r *http.Request) bool {
	src, err := u.resolve(u.state.src)
	if err != nil || src.virtual != "" || src.isTreeRoot() {
		return true
	}
	dst, err := u.resolve(u.state.dst)
	if err != nil || dst.virtual != "" || dst.isTreeRoot() {
		return true
	}
	st := u.h.opt.Store
	e, err := st.FileStat(src.tree, src.path)
	if err != nil || !e.Dir {
		return true
	}
	entries, bytes, height := e.Count(), e.Charge(), e.Height
	if strings.TrimSpace(r.Header.Get("Depth")) == "0" {
		entries, bytes, height = 1, 0, 0
	}
	if old, err := st.FileStat(dst.tree, dst.path); err == nil {
		entries, bytes = entries-old.Count(), bytes-old.Charge() // replaced
	}
	have, _ := st.TreeEntries(dst.tree)
	d := u.h.opt.Policy.CheckBound(policy.EntriesPerTree, have+entries)
	if d.Allow {
		depth := int64(strings.Count(strings.Trim(dst.path, "/"), "/")) + 1 + height
		d = u.h.opt.Policy.CheckBound(policy.PathDepth, depth)
	}
	if d.Allow {
		d = policy.CheckQuota(u.used(dst.tree), bytes, u.quota(dst))
	}
	if !d.Allow {
		u.h.refuse(w, r, d)
		return false
	}
	return true
}
