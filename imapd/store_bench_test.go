package imapd

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// BenchmarkIMAPStore: 10 clients of 10 accounts toggle \Seen with UID
// STORE (not silent), as a mail client marking messages read does. Each
// OK means the flag is durable.
func BenchmarkIMAPStore(b *testing.B) {
	const clients = 10
	users := make([]string, clients)
	accounts := make([]string, clients)
	for i := range users {
		users[i] = "Bench Nutzer"
		accounts[i] = "bench.nutzer"
		if i > 0 {
			accounts[i] += fmt.Sprint(i + 1)
		}
	}
	e := newEnv(b, users...)
	var cs []*imapclient.Client
	for _, a := range accounts {
		for range 50 {
			e.deliver(b, sample, a)
		}
		c := e.login(b, a, nil)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
	}
	var n atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; n.Add(1) <= int64(b.N); i++ {
				op := imap.StoreFlagsAdd
				if i%2 == 1 {
					op = imap.StoreFlagsDel
				}
				uid := imap.UID(i/2%50 + 1)
				if _, err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: op, Flags: []imap.Flag{imap.FlagSeen}}, nil).Collect(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
