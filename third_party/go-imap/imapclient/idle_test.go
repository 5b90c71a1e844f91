package imapclient_test

import (
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestIdle(t *testing.T) {
	client, server := newClientServerPair(t, imap.ConnStateSelected)
	defer client.Close()
	defer server.Close()

	idleCmd, err := client.Idle()
	if err != nil {
		t.Fatalf("Idle() = %v", err)
	}
	// TODO: test unilateral updates
	if err := idleCmd.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestIdle_closedConn(t *testing.T) {
	client, server := newClientServerPair(t, imap.ConnStateSelected)
	defer client.Close()
	defer server.Close()

	idleCmd, err := client.Idle()
	if err != nil {
		t.Fatalf("Idle() = %v", err)
	}
	defer idleCmd.Close()

	if err := client.Close(); err != nil {
		t.Fatalf("client.Close() = %v", err)
	}

	if err := idleCmd.Wait(); err == nil {
		t.Errorf("IdleCommand.Wait() = nil, want an error")
	}
}

// TestIdle_updateQueuedBefore: a change another session made while this
// one was selected but not idling is announced as soon as IDLE starts,
// not only after the next change (PATCHES.md 16).
func TestIdle_updateQueuedBefore(t *testing.T) {
	conn, server := newMemClientServerPair(t)
	defer server.Close()

	exists := make(chan uint32, 4)
	idler := imapclient.New(conn, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages != nil {
					exists <- *m.NumMessages
				}
			},
		},
	})
	defer idler.Close()
	if err := idler.Login(testUsername, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := idler.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	// A second session on the same server.
	writer, err := imapclient.DialInsecure(conn.RemoteAddr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if err := writer.Login(testUsername, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	appendCmd := writer.Append("INBOX", int64(len(simpleRawMessage)), nil)
	appendCmd.Write([]byte(simpleRawMessage))
	appendCmd.Close()
	if _, err := appendCmd.Wait(); err != nil {
		t.Fatal(err)
	}

	idleCmd, err := idler.Idle()
	if err != nil {
		t.Fatal(err)
	}
	defer idleCmd.Close()
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no EXISTS for the message appended before IDLE")
	}
}
