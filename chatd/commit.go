package chatd

import "schulhof/store"

// One committer for the whole hub: every connection's poster hands its
// messages over and waits; the committer writes everything that has
// gathered in one transaction as soon as the previous one is done (group
// commit). Under load many messages share one fsync; alone, a message
// waits for nothing but its own commit.

// maxCommit bounds the posts of one transaction.
const maxCommit = 4096

type commitReq struct {
	posts []store.ChatPost
	done  chan commitRes
}

type commitRes struct {
	msgs []store.ChatMessage
	errs []error
	err  error
}

// commit writes posts (in order) and returns what the store returned.
func (h *Hub) commit(posts []store.ChatPost) ([]store.ChatMessage, []error, error) {
	req := &commitReq{posts: posts, done: make(chan commitRes, 1)}
	select {
	case h.commits <- req:
	case <-h.ctx.Done():
		return nil, nil, h.ctx.Err()
	}
	r := <-req.done
	return r.msgs, r.errs, r.err
}

func (h *Hub) committer() {
	for {
		var reqs []*commitReq
		select {
		case r := <-h.commits:
			reqs = append(reqs, r)
		case <-h.ctx.Done():
			return
		}
		n := len(reqs[0].posts)
	gather:
		for n < maxCommit {
			select {
			case r := <-h.commits:
				reqs = append(reqs, r)
				n += len(r.posts)
			default:
				break gather
			}
		}
		all := make([]store.ChatPost, 0, n)
		for _, r := range reqs {
			all = append(all, r.posts...)
		}
		msgs, errs, err := h.opt.Store.CommitMessages(all)
		i := 0
		for _, r := range reqs {
			k := len(r.posts)
			res := commitRes{err: err}
			if err == nil {
				res.msgs, res.errs = msgs[i:i+k], errs[i:i+k]
			}
			r.done <- res
			i += k
		}
	}
}
