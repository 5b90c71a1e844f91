package imapwire

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"testing"
)

// Numbers are written as IMAP wants them, also where the buffer has less
// room left than the digits need.
func TestEncoderNumbers(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriterSize(&out, 16)
	enc := NewEncoder(bw, ConnSideServer)
	enc.Atom("* ").Number(0).SP().Number(math.MaxUint32).SP().Number64(-7).SP().
		Number64(math.MaxInt64).SP().ModSeq(math.MaxUint64).Special(')')
	if err := enc.CRLF(); err != nil {
		t.Fatal(err)
	}
	want := "* 0 4294967295 -7 9223372036854775807 18446744073709551615)\r\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

// A number or special written while a literal is open is refused, as a
// string is.
func TestEncoderNumberInsideLiteral(t *testing.T) {
	var out bytes.Buffer
	enc := NewEncoder(bufio.NewWriter(&out), ConnSideServer)
	enc.Literal(3, nil)
	if enc.Number(5).Err() == nil {
		t.Fatal("Number inside a literal: no error")
	}
	enc = NewEncoder(bufio.NewWriter(&out), ConnSideServer)
	enc.Literal(3, nil)
	if enc.Special('(').Err() == nil {
		t.Fatal("Special inside a literal: no error")
	}
}

// Writing numbers and specials allocates nothing: a FETCH of 100,000
// messages writes several of each per message.
func TestEncoderNumbersDoNotAllocate(t *testing.T) {
	bw := bufio.NewWriter(io.Discard)
	enc := NewEncoder(bw, ConnSideServer)
	allocs := testing.AllocsPerRun(1000, func() {
		enc.Number(123456).SP().ModSeq(987654321).Special('(').Number64(42).Special(')')
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}
