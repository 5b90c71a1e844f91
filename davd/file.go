package davd

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"schulhof/internal/metrics"
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

type webFile = webdav.File

func virtualEntry() *store.FileEntry {
	return &store.FileEntry{Dir: true, ModTime: time.Unix(0, 0).UTC()}
}

// fileInfo is an os.FileInfo over a store entry. It answers ETag and
// ContentType itself so PROPFIND never reads a blob to sniff a type.
type fileInfo struct {
	name string
	e    *store.FileEntry
}

func (f *fileInfo) Name() string       { return f.name }
func (f *fileInfo) Size() int64        { return f.e.Size }
func (f *fileInfo) ModTime() time.Time { return f.e.ModTime }
func (f *fileInfo) IsDir() bool        { return f.e.Dir }
func (f *fileInfo) Sys() any           { return nil }
func (f *fileInfo) Mode() os.FileMode {
	if f.e.Dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}

// ETag implements webdav.ETager.
func (f *fileInfo) ETag(ctx context.Context) (string, error) { return f.e.ETag(), nil }

// ContentType implements webdav.ContentTyper.
func (f *fileInfo) ContentType(ctx context.Context) (string, error) {
	return contentType(f.e, f.name), nil
}

// contentType comes from the fixed table by extension (the same one GET
// uses), never from the system's mime.types or from sniffing.
func contentType(e *store.FileEntry, name string) string { return usercontent.Type(name) }

// readFile is an open entry for reading: a folder listing or a blob that
// is opened on the first Read or Seek.
type readFile struct {
	u    *userFS
	name string
	p    place
	fi   *fileInfo
	blob io.ReadSeekCloser
	pos  int // Readdir position
	list []os.FileInfo
}

func (f *readFile) open() error {
	if f.blob != nil {
		return nil
	}
	if f.fi.e.Dir {
		return fs.ErrInvalid
	}
	b, err := f.u.h.opt.Store.OpenContent(f.fi.e.Hash)
	if err != nil {
		return err
	}
	f.blob = b
	return nil
}

func (f *readFile) Read(b []byte) (int, error) {
	if err := f.open(); err != nil {
		return 0, err
	}
	return f.blob.Read(b)
}

func (f *readFile) Seek(off int64, whence int) (int64, error) {
	if err := f.open(); err != nil {
		return 0, err
	}
	return f.blob.Seek(off, whence)
}

func (f *readFile) Write([]byte) (int, error)  { return 0, fs.ErrPermission }
func (f *readFile) Stat() (os.FileInfo, error) { return f.fi, nil }

func (f *readFile) Close() error {
	if f.blob != nil {
		return f.blob.Close()
	}
	return nil
}

// Readdir lists a folder; count > 0 pages through it like os.File does.
func (f *readFile) Readdir(count int) ([]os.FileInfo, error) {
	if !f.fi.e.Dir {
		return nil, fs.ErrInvalid
	}
	if f.list == nil {
		l, err := f.u.listing(f.p)
		if err != nil {
			return nil, err
		}
		for _, fi := range l {
			if fi, ok := fi.(*fileInfo); ok && f.p.virtual == "" {
				f.u.remember(path.Join(f.name, fi.name), fi)
			}
		}
		f.list = l
	}
	rest := f.list[f.pos:]
	if count <= 0 {
		f.pos = len(f.list)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(count, len(rest))]
	f.pos += len(rest)
	return rest, nil
}

// listing returns the entries of a folder, virtual or stored.
func (u *userFS) listing(p place) ([]os.FileInfo, error) {
	dir := func(name string) os.FileInfo { return &fileInfo{name: name, e: virtualEntry()} }
	switch p.virtual {
	case "/":
		if u.homeworkOn() {
			return []os.FileInfo{dir(handinRoot), dir("groups"), dir("home")}, nil
		}
		return []os.FileInfo{dir("groups"), dir("home")}, nil
	case "/groups":
		gs, err := u.groups()
		if err != nil {
			return nil, err
		}
		out := make([]os.FileInfo, len(gs))
		for i, g := range gs {
			out[i] = dir(g)
		}
		return out, nil
	}
	if p.virtual != "" {
		return u.listHomework(p)
	}
	es, err := u.h.opt.Store.FileList(p.tree, p.path)
	if err != nil {
		return nil, u.storeErr(err, p)
	}
	out := make([]os.FileInfo, len(es))
	for i := range es {
		out[i] = &fileInfo{name: es[i].Name, e: &es[i]}
	}
	return out, nil
}

// The RFC 4331 quota properties are computed, not stored. x/net/webdav has
// no hook for extra live properties, so they are served as dead properties
// that PROPPATCH cannot change.
var (
	propQuotaAvail   = xml.Name{Space: "DAV:", Local: "quota-available-bytes"}
	propQuotaUsed    = xml.Name{Space: "DAV:", Local: "quota-used-bytes"}
	propLockDiscover = xml.Name{Space: "DAV:", Local: "lockdiscovery"}
)

// isQuotaProp names the computed properties served as dead ones (quota,
// lock discovery): PROPPATCH cannot set them and COPY does not take them.
func isQuotaProp(n xml.Name) bool {
	return n == propQuotaAvail || n == propQuotaUsed || n == propLockDiscover
}

// DeadProps implements webdav.DeadPropsHolder.
func (f *readFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	m := f.u.deadProps(f.p, f.fi.e)
	if f.p.virtual == "" {
		if locks := f.u.discover(f.name); len(locks) > 0 {
			m[propLockDiscover] = webdav.Property{XMLName: propLockDiscover,
				InnerXML: f.u.lockDiscoveryXML(f.u.h.opt.Now(), locks)}
		}
	}
	return m, nil
}

func (u *userFS) deadProps(p place, e *store.FileEntry) map[xml.Name]webdav.Property {
	// Read per entry, not kept: a PROPFIND of a large folder holds one
	// entry's properties at a time.
	props, err := u.h.opt.Store.FileProps(e)
	if err != nil {
		u.h.opt.Logger.Error("dead properties", "id", e.ID, "err", err)
	}
	m := make(map[xml.Name]webdav.Property, len(props)+2)
	for _, dp := range props {
		n := xml.Name{Space: dp.Space, Local: dp.Local}
		m[n] = webdav.Property{XMLName: n, Lang: dp.Lang, InnerXML: dp.Inner}
	}
	if p.virtual == "" && e.Dir {
		used, quota := u.used(p.tree), u.quota(p)
		avail := int64(1) << 50 // "unlimited" as a large number clients can show
		if quota >= 0 {
			avail = max(quota-used, 0)
		}
		m[propQuotaUsed] = webdav.Property{XMLName: propQuotaUsed, InnerXML: []byte(itoa(used))}
		m[propQuotaAvail] = webdav.Property{XMLName: propQuotaAvail, InnerXML: []byte(itoa(avail))}
	}
	return m
}

// Patch implements webdav.DeadPropsHolder: all or nothing, as RFC 4918
// wants; the quota properties are protected. Dead properties are bounded
// in size and number (LIMIT-PROPS) and their bytes count in the quota;
// a refused property gets its own status in the 207 (RFC 4918 9.2.1: 403
// for one the server will not take, 507 when there is no room to record
// it) with the rule in the responsedescription, the others 424.
func (f *readFile) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	if f.p.virtual != "" {
		return refuseAll(patches, http.StatusForbidden), nil
	}
	lim := f.u.limits(f.p)
	var ops []store.PropOp
	var tooBig map[xml.Name]bool
	var biggest int64
	for _, pp := range patches {
		for _, prop := range pp.Props {
			if isQuotaProp(prop.XMLName) {
				return refuseAll(patches, http.StatusForbidden), nil
			}
			dp := store.DeadProp{Space: prop.XMLName.Space, Local: prop.XMLName.Local, Lang: prop.Lang, Inner: prop.InnerXML}
			if n := dp.Bytes(); !pp.Remove && n > lim.PropBytes {
				if tooBig == nil {
					tooBig = map[xml.Name]bool{}
				}
				tooBig[prop.XMLName], biggest = true, max(biggest, n)
			}
			ops = append(ops, store.PropOp{Remove: pp.Remove, Prop: dp})
		}
	}
	if tooBig != nil {
		d := f.u.h.opt.Policy.CheckBound(policy.DeadPropertyBytes, biggest)
		return f.u.refuseProps(patches, func(n xml.Name, _ bool) bool { return tooBig[n] }, http.StatusForbidden, d), nil
	}
	f.u.changed()
	err := f.u.h.opt.Store.FilePatchProps(f.p.tree, f.p.path, ops, lim)
	var le *store.LimitError
	sets := func(_ xml.Name, remove bool) bool { return !remove }
	switch {
	case errors.Is(err, store.ErrQuota):
		d := policy.CheckQuota(f.u.used(f.p.tree), lim.Quota+1, lim.Quota)
		return f.u.refuseProps(patches, sets, http.StatusInsufficientStorage, d), nil
	case errors.As(err, &le):
		status := http.StatusInsufficientStorage
		if le.Limit == store.LimitPropBytes {
			status = http.StatusForbidden
		}
		return f.u.refuseProps(patches, sets, status, f.u.limitDecision(le)), nil
	case err != nil:
		return nil, f.u.storeErr(err, f.p)
	}
	ps := webdav.Propstat{Status: http.StatusOK}
	for _, pp := range patches {
		for _, prop := range pp.Props {
			ps.Props = append(ps.Props, webdav.Property{XMLName: prop.XMLName})
		}
	}
	return []webdav.Propstat{ps}, nil
}

// refuseProps answers a PROPPATCH refused by a bound: the properties that
// failed get status and the rule's text, the others 424. It is the
// refusal edge of PROPPATCH (a 207, not refuse's status line).
func (u *userFS) refuseProps(patches []webdav.Proppatch, failed func(n xml.Name, remove bool) bool, status int, d policy.Decision) []webdav.Propstat {
	u.h.opt.Metrics.Refused(metrics.DAV, d)
	u.h.opt.Logger.Info("dav refused", "method", "PROPPATCH", "account", u.acct.Name, "rule", d.Rule, "status", status)
	bad := webdav.Propstat{Status: status, ResponseDescription: d.String()}
	dep := webdav.Propstat{Status: http.StatusFailedDependency}
	for _, pp := range patches {
		for _, prop := range pp.Props {
			if failed(prop.XMLName, pp.Remove) {
				bad.Props = append(bad.Props, webdav.Property{XMLName: prop.XMLName})
			} else {
				dep.Props = append(dep.Props, webdav.Property{XMLName: prop.XMLName})
			}
		}
	}
	out := []webdav.Propstat{bad}
	if len(dep.Props) > 0 {
		out = append(out, dep)
	}
	return out
}

// refuseAll answers a PROPPATCH that cannot be applied: the protected
// properties with status, the others 424 Failed Dependency.
func refuseAll(patches []webdav.Proppatch, status int) []webdav.Propstat {
	bad := webdav.Propstat{Status: status}
	dep := webdav.Propstat{Status: http.StatusFailedDependency}
	for _, pp := range patches {
		for _, prop := range pp.Props {
			if isQuotaProp(prop.XMLName) || status != http.StatusForbidden {
				bad.Props = append(bad.Props, webdav.Property{XMLName: prop.XMLName})
			} else {
				dep.Props = append(dep.Props, webdav.Property{XMLName: prop.XMLName})
			}
		}
	}
	out := []webdav.Propstat{}
	if len(bad.Props) > 0 {
		out = append(out, bad)
	}
	if len(dep.Props) > 0 {
		out = append(out, dep)
	}
	return out
}

// writeFile receives new content for one file. Bytes stream through a pipe
// into store.WriteBlob (a fresh temp file, fsynced, content-addressed); the
// entry switches to the new blob in one transaction when the write ends,
// and only if the whole body arrived. Memory use is the pipe's copy
// buffer, whatever the file size.
type writeFile struct {
	u    *userFS
	p    place
	name string

	pw      *io.PipeWriter
	result  chan blobResult
	copyOf  *store.FileEntry // COPY: reference the source's blob
	direct  *blobResult      // PUT body written by ReadFrom
	props   map[string]store.DeadProp
	written bool

	once sync.Once
	fi   *fileInfo
	err  error
}

type blobResult struct {
	pb  *store.PendingBlob
	err error
}

func newWriteFile(u *userFS, p place, name string) *writeFile {
	return &writeFile{u: u, p: p, name: name}
}

// errAborted ends the blob write of an upload that did not complete.
var errAborted = errors.New("upload aborted")

func (f *writeFile) start() {
	pr, pw := io.Pipe()
	f.pw, f.result = pw, make(chan blobResult, 1)
	limit := f.blobLimit()
	go func() {
		pb, err := f.u.h.opt.Store.WriteContent(pr, limit)
		if err == nil {
			err = io.ErrClosedPipe // the writer must not block on a finished blob
		}
		pr.CloseWithError(err)
		if errors.Is(err, io.ErrClosedPipe) {
			err = nil
		}
		f.result <- blobResult{pb, err}
	}()
}

func (f *writeFile) Write(b []byte) (int, error) {
	if f.copyOf != nil {
		return 0, fs.ErrInvalid
	}
	if f.pw == nil {
		f.start()
	}
	f.written = true
	n, err := f.pw.Write(b)
	if errors.Is(err, store.ErrTooLarge) {
		f.u.state.fail(f.tooLarge())
	}
	return n, err
}

// ReadFrom lets the library's COPY (io.Copy from the source file) become a
// metadata operation: the new entry references the source's blob.
func (f *writeFile) ReadFrom(r io.Reader) (int64, error) {
	if src, ok := r.(*readFile); ok && !f.written && !src.fi.e.Dir && src.blob == nil {
		f.copyOf = src.fi.e
		return src.fi.e.Size, nil
	}
	if !f.written && f.copyOf == nil {
		// PUT: the body streams straight into the blob in this goroutine,
		// without the pipe.
		f.written = true
		pb, err := f.u.h.opt.Store.WriteContent(r, f.blobLimit())
		f.direct = &blobResult{pb, err}
		if err != nil {
			if errors.Is(err, store.ErrTooLarge) {
				f.u.state.fail(f.tooLarge())
			}
			return 0, err
		}
		return pb.Size, nil
	}
	return io.Copy(struct{ io.Writer }{f}, r)
}

func (f *writeFile) blobLimit() int64 {
	if f.u.state.limit <= 0 {
		return -1
	}
	return f.u.state.limit
}

func (f *writeFile) tooLarge() error {
	return f.u.h.opt.Policy.CheckTransfer(f.u.state.limit+1, nil, time.Time{}).Err()
}

func (f *writeFile) Read([]byte) (int, error)           { return 0, fs.ErrPermission }
func (f *writeFile) Seek(int64, int) (int64, error)     { return 0, fs.ErrPermission }
func (f *writeFile) Readdir(int) ([]os.FileInfo, error) { return nil, fs.ErrInvalid }

// Stat finishes the write: the library asks for the new file's info
// before Close, and only a finished write has it.
func (f *writeFile) Stat() (os.FileInfo, error) {
	f.finish()
	if f.err != nil {
		return nil, f.err
	}
	return f.fi, nil
}

func (f *writeFile) Close() error {
	f.finish()
	return f.err
}

// DeadProps and Patch keep the properties a COPY brings along until the
// entry is written.
func (f *writeFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	return map[xml.Name]webdav.Property{}, nil
}

func (f *writeFile) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	ps := webdav.Propstat{Status: http.StatusOK}
	for _, pp := range patches {
		for _, prop := range pp.Props {
			if isQuotaProp(prop.XMLName) {
				continue
			}
			if f.props == nil {
				f.props = map[string]store.DeadProp{}
			}
			k := store.PropKey(prop.XMLName.Space, prop.XMLName.Local)
			if pp.Remove {
				delete(f.props, k)
			} else {
				f.props[k] = store.DeadProp{Space: prop.XMLName.Space, Local: prop.XMLName.Local,
					Lang: prop.Lang, Inner: prop.InnerXML}
			}
			ps.Props = append(ps.Props, webdav.Property{XMLName: prop.XMLName})
		}
	}
	return []webdav.Propstat{ps}, nil
}

func (f *writeFile) finish() {
	f.once.Do(func() { f.err = f.commit() })
}

// commit switches the entry to the new content, or drops the partial blob.
func (f *writeFile) commit() error {
	in := store.PutFile{
		ContentType: "",
		ModTime:     f.u.h.opt.Now(),
		Limits:      f.u.limits(f.p),
		Props:       f.props,
		Check:       f.u.state.precondition,
		Uploader:    f.u.acct.Name,
	}
	if f.copyOf != nil {
		in.Blob = store.Blob{Hash: f.copyOf.Hash, Size: f.copyOf.Size}
		in.ContentType = f.copyOf.ContentType
		return f.put(in)
	}
	var res blobResult
	if f.direct != nil {
		res = *f.direct
	} else {
		if f.pw == nil {
			f.start() // an empty file
		}
		if f.u.state.method == http.MethodPut && !f.u.state.bodyDone {
			f.pw.CloseWithError(errAborted)
		} else {
			f.pw.Close()
		}
		res = <-f.result
	}
	defer res.pb.Release()
	if res.err == nil && f.u.state.method == http.MethodPut && !f.u.state.bodyDone {
		return errAborted
	}
	if res.err != nil {
		if errors.Is(res.err, store.ErrTooLarge) {
			return f.u.state.fail(f.tooLarge())
		}
		return res.err
	}
	in.Blob, in.Pending, in.Data = res.pb.Blob, true, res.pb.Data
	return f.put(in)
}

func (f *writeFile) put(in store.PutFile) error {
	e, created, err := f.u.h.opt.Store.FilePut(f.p.tree, f.p.path, in)
	if err != nil {
		return f.u.storeErr(err, f.p)
	}
	f.u.state.created = created
	f.u.changed()
	f.fi = &fileInfo{name: baseName(f.name), e: e}
	return nil
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
