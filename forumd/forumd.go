// Package forumd is Schulhof's forum: one forum per group (class, course,
// staff room) and school-wide forums an admin creates; threads, replies,
// quotes, pages, unread marks, search, moderation and "Melden". web
// renders its pages and hands it the session's account.
//
// Its own package, not part of chatd: chatd is a WebSocket hub (live
// fan-out in commit order, resume by sequence number, slow clients
// dropped), the forum is request and answer (pages, pagination,
// moderators per forum). What they share already lives below both: the
// size and flood bounds and LINK-BLOCK in policy and internal/links, the
// report queue and tombstones in store. Moving the forum into chatd would
// share a struct name, not code.
//
// Every decision is re-made in the store transaction that acts, with the
// forum the post or thread really belongs to: a moderator of 5a who sends
// 6b's post ID on 5a's URL is refused (FORUM-MOD-SCOPE), never followed.
package forumd

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"schulhof/internal/links"
	"schulhof/policy"
	"schulhof/store"
)

// PageSize is how many threads or posts one page shows.
const PageSize = 20

// reportContext is how many posts before and after the reported one are
// frozen into a report.
const reportContext = 3

// Service answers for the forum.
type Service struct {
	Store  *store.Store
	Policy *policy.Engine
	Domain string
	Logger *slog.Logger
	Now    func() time.Time

	once  sync.Once
	flood *flood
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) init() {
	s.once.Do(func() {
		s.flood = &flood{b: map[string]*bucket{}}
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		if s.Policy == nil {
			s.Policy = policy.NewEngine()
		}
	})
}

// ErrNotFound is returned for a forum, thread or post that does not exist
// or is not where the request says.
var ErrNotFound = store.ErrNotFound

// Refusal returns the decision inside err, if it is a refusal.
func Refusal(err error) (policy.Decision, bool) {
	var re *policy.RefusalError
	if errors.As(err, &re) {
		return re.Decision, true
	}
	return policy.Decision{}, false
}

// RoleIn gathers the facts about an account and a forum inside t.
func RoleIn(t *store.Tx, a *store.Account, f *store.Forum) policy.ForumRole {
	r := policy.ForumRole{Role: policy.Role(a.Role), SchoolWide: f.SchoolWide(), Named: f.IsNamedModerator(a.Name)}
	if cur, err := t.Account(a.Name); err == nil {
		a = cur // consent as it is now, not as the session loaded it
	}
	r.ConsentComms = a.ConsentComms
	if f.Group != "" {
		if g, err := t.Group(f.Group); err == nil {
			r.Member, r.Teacher = g.HasMember(a.Name), g.IsTeacher(a.Name)
		}
	}
	return r
}

// ForumInfo is one forum as an account sees it.
type ForumInfo struct {
	Forum     store.Forum
	Role      policy.ForumRole
	Moderator bool
}

// Open returns a forum the account may read, or the refusal.
func (s *Service) Open(a *store.Account, id string) (*ForumInfo, error) {
	var out *ForumInfo
	err := s.Store.View(func(t *store.Tx) error {
		f, err := t.Forum(id)
		if err != nil {
			return err
		}
		r := RoleIn(t, a, f)
		if d := policy.CheckForumRead(r); !d.Allow {
			return d.Err()
		}
		out = &ForumInfo{Forum: *f, Role: r, Moderator: policy.IsForumModerator(r)}
		return nil
	})
	return out, err
}

// Forums lists the forums an account reads: school-wide ones first, then
// its groups' forums, then forums it moderates by name.
func (s *Service) Forums(a *store.Account) ([]ForumInfo, error) {
	stored, err := s.Store.Forums()
	if err != nil {
		return nil, err
	}
	groups, err := s.Store.GroupsOf(a.Name)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, f := range stored {
		if f.SchoolWide() || f.IsNamedModerator(a.Name) {
			ids[f.ID] = true
		}
	}
	for _, g := range groups {
		ids[store.GroupForumID(g.Name)] = true
	}
	var out []ForumInfo
	for id := range ids {
		fi, err := s.Open(a, id)
		if err != nil {
			continue
		}
		out = append(out, *fi)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Forum, out[j].Forum
		if a.SchoolWide() != b.SchoolWide() {
			return a.SchoolWide()
		}
		return a.Title < b.Title
	})
	return out, nil
}

// ThreadRow is one thread in a forum's list.
type ThreadRow struct {
	store.ForumThread
	Unread bool
}

// Threads returns page (from 1) of a forum's threads with unread marks and
// the number of pages.
func (s *Service) Threads(a *store.Account, forum string, page int) (*ForumInfo, []ThreadRow, int, error) {
	fi, err := s.Open(a, forum)
	if err != nil {
		return nil, nil, 0, err
	}
	pages := max(1, (fi.Forum.Threads+PageSize-1)/PageSize)
	page = min(max(page, 1), pages)
	list, err := s.Store.ForumThreads(forum, (page-1)*PageSize, PageSize)
	if err != nil {
		return nil, nil, 0, err
	}
	ids := make([]uint64, len(list))
	for i, th := range list {
		ids[i] = th.ID
	}
	marks, err := s.Store.ThreadReadMarks(a.Name, ids)
	if err != nil {
		return nil, nil, 0, err
	}
	rows := make([]ThreadRow, len(list))
	for i, th := range list {
		rows[i] = ThreadRow{ForumThread: th, Unread: marks[th.ID] < th.LastPost && th.LastAuthor != a.Name}
	}
	return fi, rows, pages, nil
}

// ThreadPage is one page of a thread.
type ThreadPage struct {
	Forum  ForumInfo
	Thread store.ForumThread
	Posts  []store.ForumPost
	Quoted map[uint64]store.ForumPost
	Page   int
	Pages  int
	// ReadUpTo is the read mark before this visit: posts after it are new.
	ReadUpTo uint64
}

// Thread returns page (from 1; 0: the first page, or the last for a
// returning reader; below 0: the last)
// of a thread in forum and marks what it shows as read. A thread of
// another forum is not found. Hidden posts are shown to moderators only.
func (s *Service) Thread(a *store.Account, forum string, thread uint64, page int) (*ThreadPage, error) {
	fi, err := s.Open(a, forum)
	if err != nil {
		return nil, err
	}
	th, err := s.Store.ForumThread(thread)
	if err != nil || th.Forum != forum {
		return nil, fmt.Errorf("thread %d in %s: %w", thread, forum, store.ErrNotFound)
	}
	marks, err := s.Store.ThreadReadMarks(a.Name, []uint64{thread})
	if err != nil {
		return nil, err
	}
	pages := max(1, (th.Posts+PageSize-1)/PageSize)
	if page < 0 {
		page = pages // after a reply: where it is
	}
	if page == 0 {
		page = 1
		if marks[thread] > 0 {
			page = pages // a returning reader starts where the new posts are
		}
	}
	page = min(max(page, 1), pages)
	posts, quoted, err := s.Store.ThreadPosts(thread, (page-1)*PageSize, PageSize)
	if err != nil {
		return nil, err
	}
	if !fi.Moderator {
		for i := range posts {
			if posts[i].Hidden && posts[i].Author != a.Name {
				posts[i].Text = ""
			}
		}
		for id, q := range quoted {
			if q.Hidden {
				q.Text = ""
				quoted[id] = q
			}
		}
	}
	if len(posts) > 0 {
		if err := s.Store.MarkThreadRead(a.Name, thread, posts[len(posts)-1].ID); err != nil {
			return nil, err
		}
	}
	return &ThreadPage{Forum: *fi, Thread: *th, Posts: posts, Quoted: quoted, Page: page, Pages: pages, ReadUpTo: marks[thread]}, nil
}

// checkText applies the bounds and LINK-BLOCK to a post's text.
func (s *Service) checkText(k policy.BoundKey, text string) policy.Decision {
	if strings.TrimSpace(text) == "" {
		return policy.Deny(policy.LimitMessage, "Leerer Text.")
	}
	if !utf8.ValidString(text) {
		return policy.Deny(policy.LimitMessage, "Der Text ist kein gültiger Text.")
	}
	if d := s.Policy.CheckBound(k, int64(len(text))); !d.Allow {
		return d
	}
	return links.CheckText(text, s.Store.Blocklist)
}

// writeCheck is the check inside the transaction: the account may read
// (and so write in) the forum.
func writeCheck(a *store.Account) func(*store.Tx, *store.Forum) error {
	return func(t *store.Tx, f *store.Forum) error {
		return policy.CheckForumRead(RoleIn(t, a, f)).Err()
	}
}

// NewThread opens a thread with its first post.
func (s *Service) NewThread(a *store.Account, forum, title, text string) (store.ForumThread, error) {
	s.init()
	title = strings.TrimSpace(title)
	if d := s.checkText(policy.ForumTitleBytes, title); !d.Allow {
		return store.ForumThread{}, d.Err()
	}
	if d := s.checkText(policy.ForumPostBytes, text); !d.Allow {
		return store.ForumThread{}, d.Err()
	}
	if d := s.flood.allow(s.Policy, a.Name, s.now()); !d.Allow {
		return store.ForumThread{}, d.Err()
	}
	th, _, err := s.Store.NewThread(forum, a.Name, title, text, s.now(), writeCheck(a))
	return th, err
}

// Reply adds a post to a thread of forum, quoting quote (0: none).
func (s *Service) Reply(a *store.Account, forum string, thread uint64, text string, quote uint64) (store.ForumPost, error) {
	s.init()
	if d := s.checkText(policy.ForumPostBytes, text); !d.Allow {
		return store.ForumPost{}, d.Err()
	}
	if d := s.flood.allow(s.Policy, a.Name, s.now()); !d.Allow {
		return store.ForumPost{}, d.Err()
	}
	return s.Store.Reply(forum, thread, a.Name, text, quote, s.now(), func(t *store.Tx, f *store.Forum, th *store.ForumThread) error {
		if err := policy.CheckForumRead(RoleIn(t, a, f)).Err(); err != nil {
			return err
		}
		return policy.CheckForumReply(th.Locked).Err()
	})
}

// Search finds posts with q in the forums the account reads.
func (s *Service) Search(a *store.Account, q string) ([]store.ForumHit, error) {
	s.init()
	if d := s.Policy.CheckBound(policy.ForumSearchBytes, int64(len(q))); !d.Allow {
		return nil, d.Err()
	}
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	forums, err := s.Forums(a)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(forums))
	for i, f := range forums {
		ids[i] = f.Forum.ID
	}
	hits, err := s.Store.SearchForums(ids, strings.TrimSpace(q), 50, 100_000)
	if err != nil {
		return nil, err
	}
	// the moderators see hidden posts; search finds none of them for anyone
	return hits, nil
}

// flood is a token bucket per account: forum_posts_per_minute, burst the
// same (as the chat's, for posts).
type flood struct {
	mu sync.Mutex
	b  map[string]*bucket
}

type bucket struct {
	n    float64
	last time.Time
}

func (f *flood) allow(pol *policy.Engine, account string, now time.Time) policy.Decision {
	rate := pol.Bound(policy.ForumPostsPerMinute)
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.b[account]
	if b == nil {
		if len(f.b) > 100000 {
			clear(f.b)
		}
		b = &bucket{n: float64(rate), last: now}
		f.b[account] = b
	}
	b.n = min(float64(rate), b.n+now.Sub(b.last).Minutes()*float64(rate))
	b.last = now
	if b.n < 1 {
		return pol.CheckBound(policy.ForumPostsPerMinute, rate+1)
	}
	b.n--
	return policy.Allowed
}
