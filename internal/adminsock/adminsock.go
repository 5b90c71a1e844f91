// Package adminsock carries admin CLI invocations to the running server over
// a Unix socket in the data directory (mode 0600: only the owner of the
// data may use it). The client sends its arguments and input; the server
// runs the same command against its open store and returns the output.
package adminsock

import (
	"bufio"
	"encoding/binary"
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

// A command may stream a large output (an export) to the client before its
// response: frames of 'D', a length (4 bytes BE, at most maxFrame) and
// that many bytes; the JSON response follows and starts with '{'. A
// command that streams nothing sends the response alone, as before.
const maxFrame = 1 << 20

// frameWriter writes the stream frames of one connection.
type frameWriter struct{ w *bufio.Writer }

func (f *frameWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxFrame)]
		var hdr [5]byte
		hdr[0] = 'D'
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(chunk)))
		if _, err := f.w.Write(hdr[:]); err != nil {
			return n, err
		}
		if _, err := f.w.Write(chunk); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// Serve answers requests on ln until it is closed.
func Serve(ln net.Listener, handle func(Request) Response, log *slog.Logger) {
	ServeStreams(ln, func(req Request, _ io.Writer) Response { return handle(req) }, log)
}

// ServeStreams is Serve where handle also gets the connection's stream,
// for commands that send a file (see maxFrame).
func ServeStreams(ln net.Listener, handle func(Request, io.Writer) Response, log *slog.Logger) {
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
			bw := bufio.NewWriterSize(c, 64<<10)
			resp := handle(req, &frameWriter{bw})
			if err := json.NewEncoder(bw).Encode(resp); err != nil {
				log.Warn("admin socket: reply", "err", err)
			}
			if err := bw.Flush(); err != nil {
				log.Warn("admin socket: reply", "err", err)
			}
		}()
	}
}

// Call sends one request to the server listening on path.
func Call(path string, req Request) (Response, error) { return CallStream(path, req, nil) }

// CallStream is Call for a command that streams a file: its frames are
// written to out as they arrive.
func CallStream(path string, req Request, out io.Writer) (Response, error) {
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
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		b, err := br.Peek(1)
		if err != nil {
			return Response{}, fmt.Errorf("admin socket: %w", err)
		}
		if b[0] != 'D' {
			break
		}
		var hdr [5]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return Response{}, fmt.Errorf("admin socket: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if out == nil || n > maxFrame {
			return Response{}, fmt.Errorf("admin socket: unexpected stream from the server")
		}
		if _, err := io.CopyN(out, br, int64(n)); err != nil {
			return Response{}, fmt.Errorf("admin socket: stream: %w", err)
		}
	}
	var resp Response
	if err := json.NewDecoder(br).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("admin socket: %w", err)
	}
	return resp, nil
}
