package davd

// Hand-ins over WebDAV, read-only, in a virtual tree built per request:
//
//	/dav/abgaben/                          the account's groups
//	/dav/abgaben/<g>/                      the group's tasks, by id
//	/dav/abgaben/<g>/<task>/               the hand-ins one may see
//	/dav/abgaben/<g>/<task>/<pupil>/<file> a handed-in file
//
// Hand-ins are not a file tree of the store but records of the homework
// domain (store/homework.go), so nothing in /groups or /home can reach
// them, and every level is decided by one rule, store.HandinVisible: a
// pupil sees her own folder only, the group's teachers every pupil's. A
// name one may not see answers exactly like one that does not exist
// (404, absent from listings). Everything here is virtual, so every
// write (PUT, MKCOL, DELETE, MOVE, COPY onto it, PROPPATCH, LOCK) is
// refused by the checks every virtual folder gets; pupils hand in
// through the portal.

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

const handinRoot = "abgaben"

// hwPlace is a place inside /abgaben: the deeper, the more fields set.
type hwPlace struct {
	group string
	task  *store.Task
	pupil string
	file  *store.HomeworkFile
}

// homeworkOn: the Hausaufgaben module is on for the account (MODULE-OFF
// hides the whole folder).
func (u *userFS) homeworkOn() bool {
	if u.h.opt.Auth == nil {
		return true
	}
	return u.h.opt.Auth.Module(u.acct, policy.ModuleHomework).Allow
}

// resolveHomework maps parts after "abgaben" to a place, or
// fs.ErrNotExist for anything the account may not see.
func (u *userFS) resolveHomework(parts []string) (place, error) {
	if !u.homeworkOn() {
		return place{}, fs.ErrNotExist
	}
	virt := "/" + handinRoot + "/" + strings.Join(parts, "/")
	if len(parts) == 0 {
		return place{virtual: "/" + handinRoot}, nil
	}
	if len(parts) > 4 || !u.isMember(parts[0]) {
		return place{}, fs.ErrNotExist
	}
	hp := &hwPlace{group: parts[0]}
	if len(parts) >= 2 {
		id, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil || strconv.FormatUint(id, 10) != parts[1] {
			return place{}, fs.ErrNotExist
		}
		tk, err := u.h.opt.Store.Task(id)
		if err != nil || tk.Group != hp.group {
			return place{}, fs.ErrNotExist
		}
		hp.task = tk
	}
	if len(parts) >= 3 {
		g, err := u.h.opt.Store.Group(hp.group)
		if err != nil || !store.HandinVisible(g, u.acct.Name, parts[2]) {
			return place{}, fs.ErrNotExist
		}
		hp.pupil = parts[2]
		h, err := u.h.opt.Store.Handin(hp.task.ID, hp.pupil)
		if err != nil && (len(parts) == 4 || hp.pupil != u.acct.Name) {
			// a teacher sees the folders of those who handed in; a pupil
			// her own also before she did
			return place{}, fs.ErrNotExist
		}
		if len(parts) == 4 {
			for i := range h.Files {
				if h.Files[i].Name == parts[3] {
					hp.file = &h.Files[i]
				}
			}
			if hp.file == nil {
				return place{}, fs.ErrNotExist
			}
		}
	}
	return place{virtual: virt, hw: hp}, nil
}

// hwEntry is the entry of a handed-in file: its content by hash, so
// reading it opens the same content the portal serves.
func hwEntry(f *store.HomeworkFile) *store.FileEntry {
	return &store.FileEntry{Name: f.Name, Size: f.Size, Hash: f.Hash, ModTime: f.Added}
}

func hwDir(t time.Time) *store.FileEntry { return &store.FileEntry{Dir: true, ModTime: t.UTC()} }

// listHomework lists one virtual folder below /abgaben.
func (u *userFS) listHomework(p place) ([]os.FileInfo, error) {
	var out []os.FileInfo
	hp := p.hw
	switch {
	case hp == nil: // /abgaben: the account's groups
		gs, err := u.groups()
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			out = append(out, &fileInfo{name: g, e: virtualEntry()})
		}
	case hp.task == nil: // the group's tasks
		ts, err := u.h.opt.Store.TasksOf([]string{hp.group})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			out = append(out, &fileInfo{name: strconv.FormatUint(t.ID, 10), e: hwDir(t.Created)})
		}
	case hp.pupil == "": // the hand-ins one may see
		g, err := u.h.opt.Store.Group(hp.group)
		if err != nil {
			return nil, err
		}
		hs, err := u.h.opt.Store.Handins(hp.task.ID)
		if err != nil {
			return nil, err
		}
		own := false
		for _, h := range hs {
			if store.HandinVisible(g, u.acct.Name, h.Pupil) {
				own = own || h.Pupil == u.acct.Name
				out = append(out, &fileInfo{name: h.Pupil, e: hwDir(hp.task.Created)})
			}
		}
		if !own && store.IsPupil(g, u.acct.Name) {
			out = append(out, &fileInfo{name: u.acct.Name, e: hwDir(hp.task.Created)})
		}
	default: // one hand-in's files
		h, err := u.h.opt.Store.Handin(hp.task.ID, hp.pupil)
		if err != nil {
			return nil, nil // her own folder before she handed in
		}
		for i := range h.Files {
			out = append(out, &fileInfo{name: h.Files[i].Name, e: hwEntry(&h.Files[i])})
		}
	}
	return out, nil
}
