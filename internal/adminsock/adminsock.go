// Package adminsock carries admin CLI invocations to the running server over
// a Unix socket in the data directory (mode 0600: only the owner of the
// data may use it). The client sends its arguments and input; the server
// runs the same command against its open store and returns the output.
package adminsock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"
)

// Request is one CLI invocation.
type Request struct {
	Args  []string `json:"args"`
	Stdin []byte   `json:"stdin,omitempty"`
	Actor string   `json:"actor"` // the OS user who ran the CLI
}

// Response is what the command printed, its exit code, and files it wants
// the client to write (paths as the client gave them).
type Response struct {
	Stdout string            `json:"stdout"`
	Stderr string            `json:"stderr"`
	Code   int               `json:"code"`
	Files  map[string][]byte `json:"files,omitempty"`
}

// ErrNoServer means no server listens on the socket: the CLI may open the
// store itself.
var ErrNoServer = errors.New("no server running")

// maxRequest bounds a request (an import file travels inside it).
const maxRequest = 64 << 20

// Listen creates the socket, replacing a stale one left by a crash, with
// mode 0600.
func Listen(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another server is running", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Serve answers requests on ln until it is closed.
func Serve(ln net.Listener, handle func(Request) Response, log *slog.Logger) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var req Request
			if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&req); err != nil {
				log.Warn("admin socket: bad request", "err", err)
				return
			}
			resp := handle(req)
			if err := json.NewEncoder(c).Encode(resp); err != nil {
				log.Warn("admin socket: reply", "err", err)
			}
		}()
	}
}

// Call sends one request to the server listening on path.
func Call(path string, req Request) (Response, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return Response{}, ErrNoServer
		}
		return Response{}, err
	}
	defer c.Close()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, err
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("admin socket: %w", err)
	}
	return resp, nil
}
