package smtpd

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"schulhof/internal/links"
	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// scanned is what the one pass over a message found besides its blob.
type scanned struct {
	sum     *mailmsg.Summary
	sumErr  error
	hosts   []string
	linkErr error
	links   bool // the link scan ran
}

// writeAndScan streams msg once: into its content (a small message stays
// in memory and is stored inline by the delivering commit; a larger one
// goes to a blob file, fsynced before this returns), and through pipes into the MIME walk and, when anything is
// blocked, the link scan, which run beside the copy. Each consumer reads
// its pipe to the end even when it stops looking, so the copy never waits
// on it.
//
// A message that fits inline (most school mail) is read into memory first
// and scanned from there in this goroutine: no pipes and no hand-offs
// between goroutines for every chunk.
func (s *session) writeAndScan(msg io.Reader, scanLinks bool) (*store.PendingBlob, *scanned, error) {
	lim := mailmsg.PolicyLimits(s.srv.opt.Policy)
	lim.HeaderBytes = 0 // bounded as it was read; the fields added here do not count
	sc := &scanned{links: scanLinks}
	small := bytes.NewBuffer(make([]byte, 0, store.InlineMax+bytes.MinRead))
	if _, err := small.ReadFrom(io.LimitReader(msg, store.InlineMax+1)); err != nil {
		return nil, nil, err
	}
	if small.Len() <= store.InlineMax {
		data := small.Bytes()
		sc.sum, sc.sumErr = mailmsg.ParseLimited(bytes.NewReader(data), lim)
		if scanLinks {
			sc.hosts, sc.linkErr = links.LimitsFor(s.srv.opt.Policy).Hosts(bytes.NewReader(data))
		}
		return s.srv.opt.Store.InlineContent(data), sc, nil
	}
	msg = io.MultiReader(bytes.NewReader(small.Bytes()), msg)
	var wg sync.WaitGroup
	var pipes []*io.PipeWriter
	var sinks []io.Writer
	consume := func(fn func(r io.Reader)) {
		pr, pw := io.Pipe()
		pipes, sinks = append(pipes, pw), append(sinks, pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(pr)
			io.Copy(io.Discard, pr)
		}()
	}
	consume(func(r io.Reader) { sc.sum, sc.sumErr = mailmsg.ParseLimited(r, lim) })
	if scanLinks {
		consume(func(r io.Reader) { sc.hosts, sc.linkErr = links.LimitsFor(s.srv.opt.Policy).Hosts(r) })
	}
	pb, err := s.srv.opt.Store.WriteContent(io.TeeReader(msg, io.MultiWriter(sinks...)), -1)
	for _, pw := range pipes {
		pw.CloseWithError(err) // nil: the consumers see the end of the message
	}
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	return pb, sc, nil
}

// checkScan turns what the pass found into a decision: LIMIT-MIME for a
// structure over the bounds, LINK-BLOCK for blocked links or a message too
// complex to check.
func (s *session) checkScan(sc *scanned, blocked []string) policy.Decision {
	if d := mailmsg.Refusal(s.srv.opt.Policy, sc.sumErr); !d.Allow {
		return d
	}
	if sc.sumErr != nil || sc.sum == nil {
		return policy.Deny(policy.LimitMIME, "Die Nachricht lässt sich nicht lesen.")
	}
	if !sc.links {
		return policy.Allowed
	}
	if errors.Is(sc.linkErr, links.ErrLimit) {
		return policy.Deny(policy.LinkBlock, "Die Links dieser Nachricht lassen sich nicht prüfen (zu viele Teile oder Links).")
	} else if sc.linkErr != nil {
		return policy.Deny(policy.LinkBlock, "Die Links dieser Nachricht lassen sich nicht prüfen.")
	}
	return policy.CheckLinks(sc.hosts, blocked)
}
