package davd

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"

	"schulhof/policy"
	"schulhof/store"
)

// userFS is the webdav.FileSystem of one request: the namespace of one
// account. It is built per request, so it may cache what it looks up.
type userFS struct {
	h     *Handler
	acct  *store.Account
	state *reqState

	member  map[string]bool // group → may use its folder
	handins int64           // bytes of the account's hand-ins; < 0: not read yet
	usage   map[store.Tree]int64
	// seen caches entries by DAV name for the rest of the request: a
	// PROPFIND opens every listed entry again (for each property group),
	// and the listing already read them; a PUT of a new file asks for it
	// (nil: not there) in the lock check, the preflight and the open.
	// Every write clears it.
	seen map[string]*fileInfo
}

func cacheKey(name string) string { return "/" + strings.Trim(name, "/") }

func (u *userFS) remember(name string, fi *fileInfo) {
	if u.seen == nil {
		u.seen = map[string]*fileInfo{}
	}
	u.seen[cacheKey(name)] = fi
}

// changed forgets cached entries and usage after a write.
func (u *userFS) changed() { u.seen, u.usage = nil, nil }

// place is where a DAV name points: a virtual folder (root, /groups) or a
// path inside a tree.
type place struct {
	virtual string     // "/" or "/groups" for the virtual folders
	tree    store.Tree // otherwise the tree
	path    string     // and the path inside it ("/" for its root)
	group   string     // the group of a group tree
	hw      *hwPlace   // inside /abgaben (homework.go); virtual is set
}

// isTreeRoot: /home or /groups/<g> themselves, which cannot be removed,
// moved or replaced.
func (p place) isTreeRoot() bool { return p.virtual == "" && p.path == "/" }

// resolve maps a DAV name ("/home/a.txt") to a place, refusing everything
// outside the account's namespace with fs.ErrNotExist: a group one is not
// in looks exactly like one that does not exist.
func (u *userFS) resolve(name string) (place, error) {
	var parts []string
	for _, s := range strings.Split(name, "/") {
		switch s {
		case "":
		case ".", "..":
			return place{}, fs.ErrInvalid
		default:
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return place{virtual: "/"}, nil
	}
	rest := "/" + strings.Join(parts[min(len(parts), 2):], "/")
	switch parts[0] {
	case "home":
		return place{tree: store.HomeTree(u.acct.Name), path: "/" + strings.Join(parts[1:], "/")}, nil
	case "groups":
		if len(parts) == 1 {
			return place{virtual: "/groups"}, nil
		}
		if !u.isMember(parts[1]) {
			return place{}, fs.ErrNotExist
		}
		return place{tree: store.GroupTree(parts[1]), path: rest, group: parts[1]}, nil
	case handinRoot:
		return u.resolveHomework(parts[1:])
	}
	return place{}, fs.ErrNotExist
}

// isMember: members and teachers of a group use its folder; admins reach
// group folders only through the CLI.
func (u *userFS) isMember(group string) bool {
	if ok, seen := u.member[group]; seen {
		return ok
	}
	g, err := u.h.opt.Store.Group(group)
	ok := err == nil && g.HasMember(u.acct.Name)
	if u.member == nil {
		u.member = map[string]bool{}
	}
	u.member[group] = ok
	return ok
}

// groups lists the groups whose folders the account sees.
func (u *userFS) groups() ([]string, error) {
	gs, err := u.h.opt.Store.GroupsOf(u.acct.Name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out, nil
}

// quota of a tree in bytes (< 0: unlimited). The home folder shares the
// role's quota with the account's homework hand-ins (store.HandinBytes):
// what she handed in is not free for her home folder.
func (u *userFS) quota(p place) int64 {
	if p.group != "" {
		return u.h.opt.Quotas.Group
	}
	q := u.h.opt.Quotas.ForRole(policy.Role(u.acct.Role))
	if q < 0 {
		return q
	}
	if u.handins < 0 {
		u.handins, _ = u.h.opt.Store.HandinBytes(u.acct.Name)
	}
	return max(q-u.handins, 0)
}

func (u *userFS) used(tr store.Tree) int64 {
	if n, ok := u.usage[tr]; ok {
		return n
	}
	n, _ := u.h.opt.Store.TreeUsage(tr)
	if u.usage == nil {
		u.usage = map[store.Tree]int64{}
	}
	u.usage[tr] = n
	return n
}

// limits are the bounds of one change to the tree of p: its quota and the
// LIMIT-ENTRIES, LIMIT-NAME and LIMIT-PROPS bounds, counted by the store in
// the transaction of the change.
func (u *userFS) limits(p place) store.FileLimits {
	b := u.h.opt.Policy.Bound
	return store.FileLimits{
		Quota:     u.quota(p),
		Entries:   b(policy.EntriesPerTree),
		Depth:     b(policy.PathDepth),
		NameBytes: b(policy.FileNameBytes),
		Props:     b(policy.DeadPropertiesPerItem),
		PropBytes: b(policy.DeadPropertyBytes),
	}
}

// boundKeys names the policy bound behind each store limit.
var boundKeys = map[store.Limit]policy.BoundKey{
	store.LimitEntries:   policy.EntriesPerTree,
	store.LimitDepth:     policy.PathDepth,
	store.LimitName:      policy.FileNameBytes,
	store.LimitProps:     policy.DeadPropertiesPerItem,
	store.LimitPropBytes: policy.DeadPropertyBytes,
}

// limitDecision turns a store limit error into the refusal naming its rule.
func (u *userFS) limitDecision(le *store.LimitError) policy.Decision {
	return u.h.opt.Policy.CheckBound(boundKeys[le.Limit], le.N)
}

// storeErr turns store errors into the os errors x/net/webdav maps to
// statuses, and records refusals for the response.
func (u *userFS) storeErr(err error, p place) error {
	var le *store.LimitError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fs.ErrNotExist
	case errors.Is(err, store.ErrExists):
		return fs.ErrExist
	case errors.Is(err, store.ErrQuota):
		return u.state.fail(quotaErr(err, u.used(p.tree), u.quota(p)))
	case errors.As(err, &le):
		return u.state.fail(u.limitDecision(le).Err())
	case errors.Is(err, store.ErrBadPath), errors.Is(err, store.ErrIsDir), errors.Is(err, store.ErrNotDir):
		return fs.ErrInvalid
	}
	return u.state.fail(err)
}

// Mkdir implements webdav.FileSystem.
func (u *userFS) Mkdir(ctx context.Context, name string, perm os.FileMode) error {
	p, err := u.resolve(name)
	if err != nil {
		return err
	}
	if p.virtual != "" || p.isTreeRoot() {
		return fs.ErrExist
	}
	u.changed()
	return u.storeErr(u.h.opt.Store.FileMkdirBy(p.tree, p.path, u.acct.Name, u.h.opt.Now(), u.limits(p)), p)
}

// RemoveAll implements webdav.FileSystem.
func (u *userFS) RemoveAll(ctx context.Context, name string) error {
	p, err := u.resolve(name)
	if err != nil {
		return err
	}
	if p.virtual != "" || p.isTreeRoot() {
		return fs.ErrPermission
	}
	if u.deferOverwrite(name) {
		return nil
	}
	u.changed()
	return u.storeErr(u.h.opt.Store.FileRemove(p.tree, p.path), p)
}

// Rename implements webdav.FileSystem: a metadata operation, also between
// the home tree and a group tree.
func (u *userFS) Rename(ctx context.Context, oldName, newName string) error {
	src, err := u.resolve(oldName)
	if err != nil {
		return err
	}
	dst, err := u.resolve(newName)
	if err != nil {
		return err
	}
	if src.virtual != "" || src.isTreeRoot() || dst.virtual != "" || dst.isTreeRoot() {
		return fs.ErrPermission
	}
	u.changed()
	err = u.h.opt.Store.FileMove(src.tree, src.path, dst.tree, dst.path, u.limits(dst), u.state.replaceDst)
	return u.storeErr(err, dst)
}

// Stat implements webdav.FileSystem.
func (u *userFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	p, err := u.resolve(name)
	if err != nil {
		return nil, err
	}
	return u.stat(p, name)
}

func (u *userFS) stat(p place, name string) (*fileInfo, error) {
	if fi, ok := u.seen[cacheKey(name)]; ok {
		if fi == nil {
			return nil, fs.ErrNotExist
		}
		return fi, nil
	}
	if p.hw != nil && p.hw.file != nil {
		return &fileInfo{name: baseName(name), e: hwEntry(p.hw.file)}, nil
	}
	if p.virtual != "" {
		return &fileInfo{name: baseName(name), e: virtualEntry()}, nil
	}
	e, err := u.h.opt.Store.FileStat(p.tree, p.path)
	if errors.Is(err, store.ErrNotFound) {
		u.remember(name, nil)
	}
	if err != nil {
		return nil, u.storeErr(err, p)
	}
	fi := &fileInfo{name: baseName(name), e: e}
	u.remember(name, fi)
	return fi, nil
}

// OpenFile implements webdav.FileSystem. Reading opens the blob lazily
// (PROPFIND opens every file for its dead properties); writing returns a
// file that streams into a fresh blob and switches the entry only when the
// content is complete, so a failed or refused upload leaves the old version.
func (u *userFS) OpenFile(ctx context.Context, name string, flag int, perm os.FileMode) (webFile, error) {
	p, err := u.resolve(name)
	if err != nil {
		return nil, err
	}
	// PROPPATCH opens with O_RDWR only: that is a read file whose
	// properties change; content is only ever written whole (O_TRUNC).
	if flag&(os.O_WRONLY|os.O_CREATE|os.O_TRUNC) != 0 {
		if p.virtual != "" || p.isTreeRoot() {
			return nil, fs.ErrPermission
		}
		if flag&os.O_TRUNC == 0 {
			// The library only writes whole files; anything else would be
			// a partial update the blob model cannot do in place.
			return nil, fs.ErrPermission
		}
		fi, err := u.stat(p, name)
		if err == nil && fi.IsDir() {
			return nil, fs.ErrInvalid
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err != nil && flag&os.O_CREATE == 0 {
			return nil, err
		}
		if err != nil {
			// A new file needs its folder (409 Conflict otherwise).
			parent := place{tree: p.tree, path: path.Dir(p.path), group: p.group}
			dir, err := u.stat(parent, path.Dir(cacheKey(name)))
			if err != nil || !dir.IsDir() {
				return nil, fs.ErrNotExist
			}
		}
		u.changed()
		return newWriteFile(u, p, name), nil
	}
	fi, err := u.stat(p, name)
	if err != nil {
		return nil, err
	}
	return &readFile{u: u, p: p, fi: fi, name: name}, nil
}

func baseName(name string) string {
	name = strings.TrimRight(name, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// deferOverwrite: x/net/webdav overwrites by DELETE first, then MOVE or
// COPY; if the second step failed (quota, a vanished source) the old
// destination would be lost. When a file replaces a file, the DELETE is
// skipped here and the replacement happens in the store's one
// transaction (FileMove with replace, FilePut).
func (u *userFS) deferOverwrite(name string) bool {
	st := u.state
	if (st.method != "MOVE" && st.method != "COPY") || cacheKey(name) != cacheKey(st.dst) {
		return false
	}
	src, err := u.Stat(context.Background(), st.src)
	if err != nil || src.IsDir() {
		return false
	}
	dst, err := u.Stat(context.Background(), name)
	if err != nil || dst.IsDir() {
		return false
	}
	st.replaceDst = true
	return true
}
