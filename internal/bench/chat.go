package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ChatOptions describe one chat load: Clients WebSocket connections, of
// which Senders (spread over the rooms) send Rate messages per second each.
type ChatOptions struct {
	URL        string   // ws://host:port/chat/ws
	Origin     string   // sent with every upgrade
	CookieName string   // session cookie name ("" for the bare hub)
	Cookies    []string // one session per client (Schulhof)
	Clients    int
	Senders    int
	Rate       float64 // messages per second per sender
	Duration   time.Duration
	// DialConcurrency bounds parallel connection setups.
	DialConcurrency int
	// ServerRSS, if set, is read once every client is connected and again
	// after sending; the larger value is reported.
	ServerRSS func() float64
}

// ChatResult is what one run measured on the client side.
type ChatResult struct {
	Clients          int     `json:"clients"`
	Connected        int     `json:"connected"`
	Senders          int     `json:"senders"`
	Sent             int64   `json:"sent"`
	Refused          int64   `json:"refused"`
	Deliveries       int     `json:"deliveries"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	P50MS            float64 `json:"p50_ms"`
	P99MS            float64 `json:"p99_ms"`
	MaxMS            float64 `json:"max_ms"`
	Dropped          int64   `json:"dropped"` // connections that ended during the run
	Seconds          float64 `json:"seconds"`
	ServerRSSMB      float64 `json:"-"`
}

var (
	benchMark = []byte(`"text":"bench `)
	msgMark   = []byte(`"t":"msg"`)
)

type chatClient struct {
	c    *websocket.Conn
	room string
	lat  []time.Duration
	mu   sync.Mutex
}

// RunChat connects every client, waits until each has its room, sends for
// Duration, waits for the last deliveries and reports.
func RunChat(ctx context.Context, o ChatOptions) (*ChatResult, error) {
	if o.DialConcurrency <= 0 {
		o.DialConcurrency = 32
	}
	res := &ChatResult{Clients: o.Clients, Senders: o.Senders}
	clients := make([]*chatClient, o.Clients)
	var measuring atomic.Bool
	var dropped, refused, sent atomic.Int64
	var lastDelivery atomic.Int64
	ready := make(chan int, o.Clients)
	sem := make(chan struct{}, o.DialConcurrency)
	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var dialErr atomic.Value
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			cl, err := dialChat(runCtx, o, i)
			<-sem
			if err != nil {
				dialErr.Store(err)
				ready <- -1
				return
			}
			clients[i] = cl
			gotRoom := false
			for {
				_, data, err := cl.c.Read(runCtx)
				if err != nil {
					if !gotRoom {
						ready <- -1
					} else if runCtx.Err() == nil {
						dropped.Add(1)
					}
					return
				}
				// the hot path: find the timestamp without decoding the
				// frame, so the load generator costs the same per delivery
				// whatever else the server puts into a message
				// (a frame may carry several messages: {"t":"batch",…})
				if bytes.Contains(data, msgMark) && bytes.Contains(data, benchMark) {
					if measuring.Load() {
						now := time.Now()
						cl.mu.Lock()
						for rest := data; ; {
							i := bytes.Index(rest, benchMark)
							if i < 0 {
								break
							}
							j := i + len(benchMark)
							k := j
							for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
								k++
							}
							n, _ := strconv.ParseInt(string(rest[j:k]), 10, 64)
							cl.lat = append(cl.lat, now.Sub(time.Unix(0, n)))
							rest = rest[k:]
						}
						cl.mu.Unlock()
						lastDelivery.Store(now.UnixNano())
					}
					if !bytes.Contains(data, []byte(`"t":"rooms"`)) {
						continue
					}
				}
				var m struct {
					T     string `json:"t"`
					Rooms []struct {
						ID string `json:"id"`
					} `json:"rooms"`
					Msg struct {
						Text string `json:"text"`
					} `json:"msg"`
				}
				if json.Unmarshal(data, &m) != nil {
					continue
				}
				switch m.T {
				case "rooms":
					if !gotRoom && len(m.Rooms) > 0 {
						cl.room = m.Rooms[0].ID
						gotRoom = true
						ready <- i
					}
				case "msg":
					if ts, ok := strings.CutPrefix(m.Msg.Text, "bench "); ok && measuring.Load() {
						n, _ := strconv.ParseInt(ts, 10, 64)
						now := time.Now()
						cl.mu.Lock()
						cl.lat = append(cl.lat, now.Sub(time.Unix(0, n)))
						cl.mu.Unlock()
						lastDelivery.Store(now.UnixNano())
					}
				case "err":
					refused.Add(1)
				}
			}
		}()
	}
	for range o.Clients {
		select {
		case i := <-ready:
			if i >= 0 {
				res.Connected++
			}
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	if res.Connected < o.Clients {
		return res, fmt.Errorf("only %d of %d clients connected: %v", res.Connected, o.Clients, dialErr.Load())
	}
	if o.ServerRSS != nil {
		res.ServerRSSMB = o.ServerRSS()
	}
	// Senders: every k-th client, so each room has some.
	step := max(1, o.Clients/max(1, o.Senders))
	measuring.Store(true)
	start := time.Now()
	sendCtx, stopSending := context.WithTimeout(runCtx, o.Duration)
	var swg sync.WaitGroup
	for i := 0; i < o.Clients && res.Senders > 0; i += step {
		cl := clients[i]
		swg.Add(1)
		go func() {
			defer swg.Done()
			interval := time.Duration(float64(time.Second) / o.Rate)
			select { // spread the senders' phases
			case <-time.After(time.Duration(rand.Int64N(int64(interval)))):
			case <-sendCtx.Done():
				return
			}
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				msg, _ := json.Marshal(map[string]any{"t": "send", "room": cl.room, "text": "bench " + strconv.FormatInt(time.Now().UnixNano(), 10)})
				wctx, wc := context.WithTimeout(sendCtx, 5*time.Second)
				err := cl.c.Write(wctx, websocket.MessageText, msg)
				wc()
				if err != nil {
					return
				}
				sent.Add(1)
				select {
				case <-t.C:
				case <-sendCtx.Done():
					return
				}
			}
		}()
	}
	swg.Wait()
	stopSending()
	if o.ServerRSS != nil {
		res.ServerRSSMB = max(res.ServerRSSMB, o.ServerRSS())
	}
	wall := time.Since(start)
	// the last deliveries: until nothing arrived for half a second (at most 10 s)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if time.Since(time.Unix(0, lastDelivery.Load())) > 500*time.Millisecond {
			break
		}
	}
	measuring.Store(false)
	var all []time.Duration
	for _, cl := range clients {
		if cl == nil {
			continue
		}
		cl.mu.Lock()
		all = append(all, cl.lat...)
		cl.mu.Unlock()
	}
	cancel()
	for _, cl := range clients {
		if cl != nil {
			cl.c.CloseNow()
		}
	}
	wg.Wait()
	slices.Sort(all)
	res.Sent, res.Refused, res.Dropped = sent.Load(), refused.Load(), dropped.Load()
	res.Deliveries = len(all)
	// over the time deliveries took, the drain included: a server that
	// lags behind is not credited with deliveries it made later
	if last := time.Unix(0, lastDelivery.Load()); last.After(start.Add(wall)) {
		wall = last.Sub(start)
	}
	res.Seconds = wall.Seconds()
	res.DeliveriesPerSec = float64(len(all)) / wall.Seconds()
	res.P50MS = ms(Percentile(all, 50))
	res.P99MS = ms(Percentile(all, 99))
	if len(all) > 0 {
		res.MaxMS = ms(all[len(all)-1])
	}
	return res, nil
}

func dialChat(ctx context.Context, o ChatOptions, i int) (*chatClient, error) {
	h := http.Header{}
	h.Set("Origin", o.Origin)
	url := o.URL
	if o.CookieName != "" {
		h.Set("Cookie", o.CookieName+"="+o.Cookies[i])
	} else {
		url += "?u=" + strconv.Itoa(i)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPHeader: h, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	return &chatClient{c: c}, nil
}
