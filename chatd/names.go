package chatd

import (
	"sync"

	"schulhof/store"
)

// person is how an author is shown: nickname or full name, and colour.
type person struct{ name, color string }

// nameCache keeps display names; AccountChanged events drop entries.
type nameCache struct {
	st *store.Store
	mu sync.Mutex
	m  map[string]person
}

func (n *nameCache) get(account string) person {
	n.mu.Lock()
	p, ok := n.m[account]
	n.mu.Unlock()
	if ok {
		return p
	}
	p = person{name: account}
	if a, err := n.st.Account(account); err == nil {
		p = person{name: DisplayName(a), color: a.Color}
	}
	n.mu.Lock()
	if len(n.m) > 100000 {
		clear(n.m)
	}
	n.m[account] = p
	n.mu.Unlock()
	return p
}

func (n *nameCache) forget(account string) {
	n.mu.Lock()
	delete(n.m, account)
	n.mu.Unlock()
}

// DisplayName is the nickname if set, else first and last name.
func DisplayName(a *store.Account) string {
	if a.Nickname != "" {
		return a.Nickname
	}
	return a.First + " " + a.Last
}
