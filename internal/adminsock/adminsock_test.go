package adminsock

import (
	"bytes"
	"crypto/sha256"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestStreamBeforeResponse: a command's stream (here 5 MiB, several
// frames) reaches CallStream's writer whole and in order, followed by the
// response; a plain Call of a command that streams is an error, not a
// silently dropped file; a command that streams nothing answers as before.
func TestStreamBeforeResponse(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := make([]byte, 5<<20+17)
	rand.NewChaCha8([32]byte{5}).Read(data)
	go ServeStreams(ln, func(req Request, out io.Writer) Response {
		if req.Args[0] == "stream" {
			// uneven writes, as a zip writer makes them
			for p := data; len(p) > 0; {
				n := min(len(p), 1+rand.IntN(3<<20))
				if _, err := out.Write(p[:n]); err != nil {
					return Response{Stderr: err.Error(), Code: 1}
				}
				p = p[n:]
			}
		}
		return Response{Stdout: "fertig " + strings.Join(req.Args, " ")}
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	var got bytes.Buffer
	resp, err := CallStream(sock, Request{Args: []string{"stream"}}, &got)
	if err != nil || resp.Stdout != "fertig stream" || resp.Code != 0 {
		t.Fatalf("CallStream: %+v %v", resp, err)
	}
	if sha256.Sum256(got.Bytes()) != sha256.Sum256(data) {
		t.Fatalf("stream: %d bytes, want the %d sent", got.Len(), len(data))
	}
	if _, err := Call(sock, Request{Args: []string{"stream"}}); err == nil {
		t.Fatal("Call of a streaming command succeeded without a writer")
	}
	if resp, err := Call(sock, Request{Args: []string{"list"}}); err != nil || resp.Stdout != "fertig list" {
		t.Fatalf("Call: %+v %v", resp, err)
	}
}
