package davd

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// serveGet answers GET and HEAD of files with ETag, Last-Modified,
// conditional requests and ranges (http.ServeContent), after SIZE-20MB,
// with the headers that keep user content inert (usercontent). Folders
// and names that are not there go on to the library (404, 405).
func (h *Handler) serveGet(w *responseMapper, r *http.Request, u *userFS) bool {
	name := strings.TrimPrefix(r.URL.Path, h.prefix)
	if name == r.URL.Path {
		return true
	}
	p, err := u.resolve(name)
	if err != nil || (p.virtual != "" && (p.hw == nil || p.hw.file == nil)) {
		return true
	}
	e, f, err := h.openFile(p)
	if err != nil {
		h.opt.Logger.ErrorContext(r.Context(), "open blob", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return false
	}
	if f == nil { // a folder, or nothing (any more)
		return true
	}
	defer f.Close()
	if d := h.opt.Policy.CheckTransfer(e.Size, h.sizeExceptions(u.acct), h.opt.Now()); !d.Allow {
		h.refuse(w, r, d)
		return false
	}
	if rg := r.Header.Get("Range"); rg != "" && h.tooManyRanges(rg, e.Size) {
		// Like Apache's MaxRanges and MaxRangeOverlaps: the whole file,
		// not thousands of parts cut from it.
		r.Header.Del("Range")
	}
	w.Header().Set("ETag", e.ETag())
	usercontent.SetHeaders(w.Header(), baseName(name))
	var content io.ReadSeeker = f
	if w.req != nil {
		content = &revocableFile{ReadSeeker: f, req: w.req} // ends with the account's access
	}
	http.ServeContent(w.ResponseWriter, r, baseName(name), e.ModTime, content)
	return false
}

// openFile looks the file up and opens its content from one snapshot
// (store.FileOpen): another client may delete or replace the file at the
// same moment, and the reader gets it whole as it was, or a nil file like
// a folder, so the library answers 404 (405 for a folder), never a 500.
func (h *Handler) openFile(p place) (*store.FileEntry, io.ReadSeekCloser, error) {
	if h.beforeOpen != nil {
		h.beforeOpen()
	}
	if p.hw != nil {
		// a handed-in file, looked up (and its access decided) by resolve
		f, err := h.opt.Store.OpenHomeworkContent(p.hw.file.Hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, nil
		}
		return hwEntry(p.hw.file), f, err
	}
	e, f, err := h.opt.Store.FileOpen(p.tree, p.path)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrIsDir) || errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return e, f, nil
}

// tooManyRanges reports whether a Range header asks for more ranges than
// ranges_per_request or more overlapping ones than overlapping_ranges
// (LIMIT-RANGES). A header it cannot read is left to http.ServeContent.
func (h *Handler) tooManyRanges(header string, size int64) bool {
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok {
		return false
	}
	parts := strings.Split(spec, ",")
	if d := h.opt.Policy.CheckBound(policy.RangesPerRequest, int64(len(parts))); !d.Allow {
		h.opt.Logger.Info("dav ranges", "rule", d.Rule, "ranges", len(parts))
		return true
	}
	type span struct{ start, end int64 }
	var spans []span
	for _, s := range parts {
		start, end, ok := parseRange(strings.TrimSpace(s), size)
		if ok {
			spans = append(spans, span{start, end})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	overlaps, reach := int64(0), int64(-1)
	for _, s := range spans {
		if s.start <= reach {
			overlaps++
		}
		reach = max(reach, s.end)
	}
	if d := h.opt.Policy.CheckBound(policy.OverlappingRanges, overlaps); !d.Allow {
		h.opt.Logger.Info("dav ranges", "rule", d.Rule, "overlaps", overlaps)
		return true
	}
	return false
}

// parseRange resolves one range-spec against size to its first and last
// byte; ok is false for a spec that selects nothing or does not parse.
func parseRange(s string, size int64) (start, end int64, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found || size == 0 {
		return 0, 0, false
	}
	if a == "" { // suffix: the last b bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size - 1, true
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return 0, 0, false
		}
		end = min(e, size-1)
	}
	return start, end, true
}
