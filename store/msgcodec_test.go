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
