package store

// Homework (Hausaufgaben): tasks a teacher sets for a group and the files
// pupils hand in, with the teacher's feedback.
//
//	hwtasks    task id (8 bytes BE) → Task
//	hwhandins  task id (8 bytes BE) pupil → Handin
//	hwgroups   group 0x00 task id (8 bytes BE) → "": the tasks of a group,
//	           so a group's list (and its calendar) is a prefix scan
//
// Attachments and handed-in files are references to content (blobs or
// inline values, counted in blobrefs like file entries): an attachment
// chosen from the teacher's home folder takes one more reference to the
// same content, no byte is copied; removing the original later leaves the
// task's copy readable.
//
// Who sees what is decided by HandinVisible, the one place for it (the
// portal and davd both ask it): a pupil her own hand-in, the group's
// teachers all of the task's.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketHomeworkTasks   = []byte("hwtasks")
	bucketHomeworkHandins = []byte("hwhandins")
	bucketHomeworkGroups  = []byte("hwgroups")
)

func init() {
	buckets = append(buckets, bucketHomeworkTasks, bucketHomeworkHandins, bucketHomeworkGroups)
}

func groupTaskKey(group string, id uint64) []byte {
	return append(append([]byte(group), 0), u64(id)...)
}

// ErrNotTeacher means the account does not teach the task's group.
var ErrNotTeacher = errors.New("not a teacher of the group")

// ErrNotPupil means the account is not a (non-teacher) member of the group.
var ErrNotPupil = errors.New("not a pupil of the group")

// HomeworkFile is one attachment or handed-in file.
type HomeworkFile struct {
	Name  string    `json:"name"`
	Size  int64     `json:"size"`
	Hash  string    `json:"hash"`
	Added time.Time `json:"added"`
	Late  bool      `json:"late,omitempty"` // handed in after the due time
}

// Task is one homework task.
type Task struct {
	ID          uint64         `json:"id"`
	Group       string         `json:"group"`
	Title       string         `json:"title"`
	Text        string         `json:"text"`
	Creator     string         `json:"creator"` // ErasedName after the creator's erasure
	Created     time.Time      `json:"created"`
	Due         time.Time      `json:"due"`
	Announced   bool           `json:"announced"` // confirmed announced in class
	Attachments []HomeworkFile `json:"attachments,omitempty"`
}

// Handin is what one pupil handed in for one task, and the feedback.
type Handin struct {
	Task       uint64         `json:"task"`
	Pupil      string         `json:"pupil"`
	Files      []HomeworkFile `json:"files,omitempty"`
	Feedback   string         `json:"feedback,omitempty"`
	FeedbackBy string         `json:"feedback_by,omitempty"`
	FeedbackAt time.Time      `json:"feedback_at,omitzero"`
}

// Late reports whether any file came after the due time.
func (h *Handin) Late() bool {
	for _, f := range h.Files {
		if f.Late {
			return true
		}
	}
	return false
}

// Bytes is what the hand-in's files hold.
func (h *Handin) Bytes() int64 {
	var n int64
	for _, f := range h.Files {
		n += f.Size
	}
	return n
}

// HandinVisible decides whether viewer may see pupil's hand-in in group
// g: her own (as a pupil of the group), or any as the group's teacher.
func HandinVisible(g *Group, viewer, pupil string) bool {
	if g == nil {
		return false
	}
	return g.IsTeacher(viewer) || (viewer == pupil && g.HasMember(viewer))
}

// IsPupil: a member of the group who does not teach it.
func IsPupil(g *Group, name string) bool { return g.HasMember(name) && !g.IsTeacher(name) }

func handinKey(task uint64, pupil string) []byte {
	return append(u64(task), pupil...)
}

// CreateTask stores a new task of t.Creator, who must teach t.Group; each
// path in attach names a file in her home folder, taken by content
// reference. It returns the task with its id.
func (s *Store) CreateTask(task Task, attach []string) (*Task, error) {
	err := s.update(func(t *Tx) error {
		g, err := t.Group(task.Group)
		if err != nil {
			return err
		}
		if !g.IsTeacher(task.Creator) {
			return ErrNotTeacher
		}
		for _, p := range attach {
			e, err := t.resolve(HomeTree(task.Creator), p)
			if err != nil {
				return fmt.Errorf("attachment %q: %w", p, err)
			}
			if e.Dir {
				return fmt.Errorf("attachment %q: %w", p, ErrIsDir)
			}
			if err := t.refBlob(e.Hash); err != nil {
				return err
			}
			task.Attachments = append(task.Attachments, HomeworkFile{Name: e.Name, Size: e.Size, Hash: e.Hash, Added: task.Created})
		}
		id, err := t.bucket(bucketHomeworkTasks).NextSequence()
		if err != nil {
			return err
		}
		task.ID = id
		if err := t.bucket(bucketHomeworkGroups).Put(groupTaskKey(task.Group, id), nil); err != nil {
			return err
		}
		return t.putJSON(bucketHomeworkTasks, u64(id), &task)
	})
	if err != nil {
		return nil, err
	}
	return &task, nil
}

func (t *Tx) putJSON(bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.bucket(bucket).Put(key, b)
}

func (t *Tx) task(id uint64) (*Task, error) {
	v := t.bucket(bucketHomeworkTasks).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("task %d: %w", id, ErrNotFound)
	}
	var task Task
	return &task, json.Unmarshal(v, &task)
}

// Task reads one task.
func (s *Store) Task(id uint64) (*Task, error) {
	var out *Task
	err := s.view(func(t *Tx) (err error) { out, err = t.task(id); return })
	return out, err
}

// TasksOf lists the tasks of the groups named, due date first: one
// prefix scan of the group index per group.
func (s *Store) TasksOf(groups []string) ([]Task, error) {
	var out []Task
	err := s.view(func(t *Tx) error {
		for _, g := range groups {
			prefix := append([]byte(g), 0)
			c := t.bucket(bucketHomeworkGroups).Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				tk, err := t.task(binary.BigEndian.Uint64(k[len(prefix):]))
				if err != nil {
					return err
				}
				out = append(out, *tk)
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out, err
}

func (t *Tx) handin(task uint64, pupil string) (*Handin, error) {
	v := t.bucket(bucketHomeworkHandins).Get(handinKey(task, pupil))
	if v == nil {
		return nil, ErrNotFound
	}
	var h Handin
	return &h, json.Unmarshal(v, &h)
}

// Handin reads one pupil's hand-in (ErrNotFound: nothing handed in and
// no feedback).
func (s *Store) Handin(task uint64, pupil string) (*Handin, error) {
	var out *Handin
	err := s.view(func(t *Tx) (err error) { out, err = t.handin(task, pupil); return })
	return out, err
}

// Handins lists the hand-ins of a task by pupil name.
func (s *Store) Handins(task uint64) ([]Handin, error) {
	var out []Handin
	err := s.view(func(t *Tx) error {
		prefix := u64(task)
		c := t.bucket(bucketHomeworkHandins).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var h Handin
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

// handinBytes is what pupil has handed in over all tasks.
func (t *Tx) handinBytes(pupil string) (int64, error) {
	var n int64
	err := t.bucket(bucketHomeworkHandins).ForEach(func(k, v []byte) error {
		if len(k) < 8 || string(k[8:]) != pupil {
			return nil
		}
		var h Handin
		if err := json.Unmarshal(v, &h); err != nil {
			return err
		}
		n += h.Bytes()
		return nil
	})
	return n, err
}

// HandinBytes is what pupil has handed in over all tasks (it counts in
// her quota with her home folder).
func (s *Store) HandinBytes(pupil string) (int64, error) {
	var n int64
	err := s.view(func(t *Tx) (err error) { n, err = t.handinBytes(pupil); return })
	return n, err
}

// HandinLimits bound one hand-in: files per pupil and task, and the
// pupil's quota, which her home folder and all her hand-ins share (< 0:
// no limit).
type HandinLimits struct {
	Files int64
	Quota int64
}

// HandIn adds (or replaces, by name) one file of pupil's hand-in for the
// task. The content is a pending blob from WriteContent; release it after
// the call. A file after the due time is marked late, never refused.
func (s *Store) HandIn(task uint64, pupil, name string, pb *PendingBlob, at time.Time, lim HandinLimits) (*Handin, error) {
	if name == "" || name != path.Base(name) || name == "." || name == ".." ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return nil, ErrBadPath // no client could name it over WebDAV (davd's unsafePath)
	}
	var out *Handin
	err := s.update(func(t *Tx) error {
		tk, err := t.task(task)
		if err != nil {
			return err
		}
		g, err := t.Group(tk.Group)
		if err != nil {
			return err
		}
		if !IsPupil(g, pupil) {
			return ErrNotPupil
		}
		h, err := t.handin(task, pupil)
		if errors.Is(err, ErrNotFound) {
			h, err = &Handin{Task: task, Pupil: pupil}, nil
		}
		if err != nil {
			return err
		}
		f := HomeworkFile{Name: name, Size: pb.Size, Hash: pb.Hash, Added: at.UTC(), Late: at.After(tk.Due)}
		replaced := -1
		var oldSize int64
		for i := range h.Files {
			if h.Files[i].Name == name {
				replaced, oldSize = i, h.Files[i].Size
			}
		}
		if replaced < 0 && lim.Files >= 0 && int64(len(h.Files)+1) > lim.Files {
			return &LimitError{Limit: LimitEntries, N: int64(len(h.Files) + 1)}
		}
		if lim.Quota >= 0 {
			used, err := t.handinBytes(pupil)
			if err != nil {
				return err
			}
			if r, err := t.treeRec(HomeTree(pupil), false); err != nil {
				return err
			} else if r != nil {
				used += r.Bytes
			}
			if used-oldSize+f.Size > lim.Quota {
				return ErrQuota
			}
		}
		if err := t.refContent(PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data}); err != nil {
			return err
		}
		if replaced >= 0 {
			if err := t.unrefBlob(h.Files[replaced].Hash); err != nil {
				return err
			}
			h.Files[replaced] = f
		} else {
			h.Files = append(h.Files, f)
		}
		out = h
		return t.putJSON(bucketHomeworkHandins, handinKey(task, pupil), h)
	})
	return out, err
}

// SetFeedback stores teacher's feedback on pupil's hand-in (also when
// nothing was handed in: "fehlt" is feedback too).
func (s *Store) SetFeedback(task uint64, pupil, teacher, text string, at time.Time) error {
	return s.update(func(t *Tx) error {
		tk, err := t.task(task)
		if err != nil {
			return err
		}
		g, err := t.Group(tk.Group)
		if err != nil {
			return err
		}
		if !g.IsTeacher(teacher) {
			return ErrNotTeacher
		}
		if !IsPupil(g, pupil) {
			return ErrNotPupil
		}
		h, err := t.handin(task, pupil)
		if errors.Is(err, ErrNotFound) {
			h, err = &Handin{Task: task, Pupil: pupil}, nil
		}
		if err != nil {
			return err
		}
		h.Feedback, h.FeedbackBy, h.FeedbackAt = text, teacher, at.UTC()
		return t.putJSON(bucketHomeworkHandins, handinKey(task, pupil), h)
	})
}

// OpenHomeworkContent opens the content of an attachment or handed-in
// file by its hash, like FileOpen: under blobMu, so that the blob cannot
// go between the caller's lookup and the open. Callers look the file up
// (and decide access) first.
func (s *Store) OpenHomeworkContent(hash string) (io.ReadSeekCloser, error) {
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	var content io.ReadSeekCloser
	err := s.view(func(t *Tx) error {
		if t.bucket(bucketBlobRefs).Get([]byte(hash)) == nil {
			return ErrNotFound
		}
		if v := t.bucket(bucketFileInline).Get([]byte(hash)); v != nil {
			content = inlineReader{bytes.NewReader(bytes.Clone(v))}
			return nil
		}
		var err error
		content, err = s.openBlobFile(hash)
		return err
	})
	return content, err
}

// countHomeworkReferences adds the attachments' and hand-ins' content to
// the references CheckBlobs recounts (checkblobs.go).
func countHomeworkReferences(tx *bolt.Tx, found map[string]uint64) error {
	if b := tx.Bucket(bucketHomeworkTasks); b != nil {
		err := b.ForEach(func(_, v []byte) error {
			var task Task
			if err := json.Unmarshal(v, &task); err != nil {
				return err
			}
			for _, f := range task.Attachments {
				found[f.Hash]++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("hwtasks: %w", err)
		}
	}
	if b := tx.Bucket(bucketHomeworkHandins); b != nil {
		err := b.ForEach(func(_, v []byte) error {
			var h Handin
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
			for _, f := range h.Files {
				found[f.Hash]++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("hwhandins: %w", err)
		}
	}
	return nil
}
