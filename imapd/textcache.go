package imapd

import (
	"container/list"
	"sync"
)

// textCache keeps the decoded, lower-cased text of recently searched
// messages. Blobs never change, so an entry keyed by blob hash is never
// stale; the cache only bounds memory (least recently used out first).
type textCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front: most recent
	items map[string]*list.Element
}

type textEntry struct {
	hash, text string
}

func newTextCache(maxBytes int) *textCache {
	return &textCache{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *textCache) get(hash string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[hash]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(el)
	return el.Value.(*textEntry).text, true
}

func (c *textCache) put(hash, text string) {
	if len(text) > c.max/4 {
		return // one huge message must not flush everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[hash]; ok {
		return
	}
	c.items[hash] = c.order.PushFront(&textEntry{hash: hash, text: text})
	c.size += len(text) + len(hash)
	for c.size > c.max {
		last := c.order.Back()
		e := last.Value.(*textEntry)
		c.order.Remove(last)
		delete(c.items, e.hash)
		c.size -= len(e.text) + len(e.hash)
	}
}
