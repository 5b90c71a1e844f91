package store

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"
)

// bucketBlocklist holds the LINK-BLOCK list: domain → BlockedDomain.
var bucketBlocklist = []byte("blocklist")

// BlocklistChanged is published when domains are added or removed.
const BlocklistChanged EventKind = "blocklist.changed"

func init() { buckets = append(buckets, bucketBlocklist) }

// BlockedDomain is what is kept about one entry of the block list.
type BlockedDomain struct {
	AddedAt time.Time `json:"added_at"`
}

// maxBlockedDomainLength is DNS's limit for a name in text form.
const maxBlockedDomainLength = 253

// checkBlockedDomain accepts a domain as the caller normalized it (the
// store stores, policy.NormalizeDomain decides what a domain is); it only
// refuses what would corrupt the list.
func checkBlockedDomain(d string) error {
	if d == "" || len(d) > maxBlockedDomainLength || d != strings.ToLower(d) ||
		strings.ContainsFunc(d, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return fmt.Errorf("invalid blocked domain %q", d)
	}
	return nil
}

// AddBlockedDomains adds domains (normalized by the caller) to the block
// list and returns those that were not on it yet, in the order given.
func (t *Tx) AddBlockedDomains(domains ...string) (added []string, err error) {
	b := t.bucket(bucketBlocklist)
	v, err := json.Marshal(BlockedDomain{AddedAt: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	for _, d := range domains {
		if err := checkBlockedDomain(d); err != nil {
			return nil, err
		}
		if b.Get([]byte(d)) != nil {
			continue
		}
		if err := b.Put([]byte(d), v); err != nil {
			return nil, err
		}
		added = append(added, d)
	}
	t.blocklistChanged(len(added) > 0)
	return added, nil
}

// RemoveBlockedDomains removes domains from the block list and returns
// those that were on it, in the order given.
func (t *Tx) RemoveBlockedDomains(domains ...string) (removed []string, err error) {
	b := t.bucket(bucketBlocklist)
	for _, d := range domains {
		if b.Get([]byte(d)) == nil {
			continue
		}
		if err := b.Delete([]byte(d)); err != nil {
			return nil, err
		}
		removed = append(removed, d)
	}
	t.blocklistChanged(len(removed) > 0)
	return removed, nil
}

// Blocklist returns the block list as this transaction sees it, sorted.
func (t *Tx) Blocklist() ([]string, error) {
	out := []string{}
	err := t.bucket(bucketBlocklist).ForEach(func(k, _ []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out, err // bbolt iterates in key order: sorted
}

// blocklistChanged publishes the change and drops the cached list once
// the transaction has committed.
func (t *Tx) blocklistChanged(changed bool) {
	if !changed {
		return
	}
	t.publish(Event{Kind: BlocklistChanged})
	c := t.s.blocklistCache()
	t.btx.OnCommit(c.invalidate)
}

// AddBlockedDomains is Tx.AddBlockedDomains in its own transaction.
func (s *Store) AddBlockedDomains(domains ...string) (added []string, err error) {
	err = s.update(func(t *Tx) error {
		added, err = t.AddBlockedDomains(domains...)
		return err
	})
	return added, err
}

// RemoveBlockedDomains is Tx.RemoveBlockedDomains in its own transaction.
func (s *Store) RemoveBlockedDomains(domains ...string) (removed []string, err error) {
	err = s.update(func(t *Tx) error {
		removed, err = t.RemoveBlockedDomains(domains...)
		return err
	})
	return removed, err
}

// Blocklist returns the block list, sorted. It is served from memory
// (SMTP checks every message against it) and reread only after a change.
// The returned slice is shared by all callers: do not modify it.
func (s *Store) Blocklist() ([]string, error) {
	return s.blocklistCache().get(s)
}

// blocklistCache keeps the sorted list between changes. gen counts
// invalidations, so that a list read before a commit is never stored
// after that commit's invalidation.
type blocklistCache struct {
	mu   sync.Mutex
	list []string // nil: not loaded
	gen  uint64
}

func (c *blocklistCache) invalidate() {
	c.mu.Lock()
	c.list = nil
	c.gen++
	c.mu.Unlock()
}

func (c *blocklistCache) get(s *Store) ([]string, error) {
	c.mu.Lock()
	list, gen := c.list, c.gen
	c.mu.Unlock()
	if list != nil {
		return list, nil
	}
	err := s.view(func(t *Tx) error {
		var err error
		list, err = t.Blocklist()
		return err
	})
	if err != nil {
		return nil, err
	}
	list = slices.Clip(list) // an append by a caller copies instead of writing into the cache
	c.mu.Lock()
	if c.gen == gen {
		c.list = list
	}
	c.mu.Unlock()
	return list, nil
}

// blocklistCaches holds one cache per open Store without a field in
// Store (other domains own store.go): keyed weakly, dropped with the Store.
var blocklistCaches sync.Map // weak.Pointer[Store] → *blocklistCache

func (s *Store) blocklistCache() *blocklistCache {
	k := weak.Make(s)
	if c, ok := blocklistCaches.Load(k); ok {
		return c.(*blocklistCache)
	}
	c, loaded := blocklistCaches.LoadOrStore(k, &blocklistCache{})
	if !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[Store]) { blocklistCaches.Delete(k) }, k)
	}
	return c.(*blocklistCache)
}
