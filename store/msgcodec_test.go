package store

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMessageCodecRoundTripAndOldJSON(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, m := range []Message{
		{UID: 7, Blob: hash, Size: 1234, Internal: time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC),
			Flags: []string{"$Label1", `\Seen`, "Ünïcode"}, ModSeq: 99},
		{UID: 0xffffffff, Blob: hash, Internal: time.Unix(0, 0).UTC()},
		{UID: 1, Blob: hash},
		{UID: 3, Blob: seqKey(1<<40+5, hash), Size: 99, Internal: time.Unix(7, 8).UTC(),
			Flags: []string{`\Seen`}, ModSeq: 4},
	} {
		v, err := encodeMessage(&m)
		if err != nil {
			t.Fatal(err)
		}
		var got Message
		if err := decodeMessage(v, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, m)
		}
		if m.Internal.IsZero() != got.Internal.IsZero() {
			t.Fatalf("zero time: %v", got.Internal)
		}
		for cut := 0; cut < len(v); cut++ {
			if decodeMessage(v[:cut], &got) == nil {
				t.Fatalf("truncated record (%d of %d bytes) accepted", cut, len(v))
			}
		}
		old, _ := json.Marshal(&m) // as older versions stored it
		var fromJSON Message
		if err := decodeMessage(old, &fromJSON); err != nil || fromJSON.UID != m.UID || !reflect.DeepEqual(fromJSON.Flags, m.Flags) {
			t.Fatalf("old JSON record: %+v %v", fromJSON, err)
		}
	}
}

// BenchmarkMessageDecode compares the binary record with the JSON one it
// replaced (FETCH and SEARCH decode a record per message).
func BenchmarkMessageDecode(b *testing.B) {
	m := Message{UID: 4711, Blob: strings.Repeat("ab", 32), Size: 12345,
		Internal: time.Now().UTC(), Flags: []string{`\Seen`, `\Answered`, "$Label1"}, ModSeq: 123456}
	bin, _ := encodeMessage(&m)
	js, _ := json.Marshal(&m)
	for name, v := range map[string][]byte{"binary": bin, "json": js} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				var got Message
				if err := decodeMessage(v, &got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// decodeFlagsModSeq answers what decodeMessage answers for flags and
// MODSEQ, for both record forms, and refuses a truncated record.
func TestDecodeFlagsModSeqMatchesRecord(t *testing.T) {
	for _, key := range []string{strings.Repeat("cd", 32), seqKey(42, strings.Repeat("cd", 32))} {
		m := Message{UID: 7, Blob: key, Size: 10, Internal: time.Unix(5, 0).UTC(),
			Flags: []string{`\Seen`, "$Label1"}, ModSeq: 1 << 40}
		v, err := encodeMessage(&m)
		if err != nil {
			t.Fatal(err)
		}
		old, _ := json.Marshal(&m)
		for _, rec := range [][]byte{v, old} {
			flags, modseq, err := decodeFlagsModSeq(rec, nil)
			if err != nil || modseq != m.ModSeq || !reflect.DeepEqual(flags, m.Flags) {
				t.Fatalf("%q: %v %d %v", rec[:1], flags, modseq, err)
			}
		}
		for cut := 0; cut < msgFixed(v); cut++ {
			if _, _, err := decodeFlagsModSeq(v[:cut], nil); err == nil {
				t.Fatalf("truncated record (%d bytes) accepted", cut)
			}
		}
	}
}
