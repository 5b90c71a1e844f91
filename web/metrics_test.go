package web

import (
	"testing"

	"schulhof/policy"
)

// counter sums the samples of family name whose labels include want.
func (e *portalEnv) counter(name string, want map[string]string) float64 {
	e.t.Helper()
	fams, err := e.metrics.Registry().Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	var v float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			for k, x := range want {
				if labels[k] != x {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				v += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				v += g.GetValue()
			}
		}
	}
	return v
}

// TestChatAndPortalMetrics: chat sockets, frames by type and chat
// refusals by rule, portal requests and a portal login refusal are
// counted, each once.
func TestChatAndPortalMetrics(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	e.user("Ben", "Berg", policy.Student, false, "5b")
	b := e.browser()
	if resp := b.login(max, "falsch"); resp.StatusCode != 403 {
		t.Fatalf("wrong password: %s", resp.Status)
	}
	b.mustLogin(max)
	w := b.mustDial()
	w.next("rooms")
	if open := e.counter("schulhof_connections_open", map[string]string{"protocol": "chat"}); open != 1 {
		t.Errorf("chat sockets open: %v, want 1", open)
	}
	for range 2 { // not a member of 5b: CHAT-MEMBER
		w.send(map[string]any{"t": "send", "room": "g:5b", "text": "hallo", "ref": "p"})
		if a := w.next("ack"); a["rule"] != string(policy.ChatMember) {
			t.Fatalf("send to 5b: %v", a)
		}
	}
	w.send(map[string]any{"t": "send", "room": "g:5a", "text": "hallo", "ref": "q"})
	if a := w.next("ack"); a["t"] == "err" {
		t.Fatalf("send to 5a: %v", a)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"schulhof_refusals_total", map[string]string{"protocol": "chat", "rule": "CHAT-MEMBER"}, 2},
		{"schulhof_refusals_total", map[string]string{"protocol": "web", "rule": "AUTH-FAILED"}, 1},
		{"schulhof_commands_total", map[string]string{"protocol": "chat", "command": "send"}, 3},
		{"schulhof_connections_total", map[string]string{"protocol": "chat"}, 1},
	} {
		if got := e.counter(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := e.counter("schulhof_commands_total", map[string]string{"protocol": "web", "command": "POST"}); n < 2 {
		t.Errorf("portal POSTs counted: %v, want ≥ 2 (two logins)", n)
	}
}
