package mailmsg

// The header fields clients search (FROM, TO, CC, SUBJECT, HEADER
// Message-ID …), decoded and lower-cased once when a message is stored,
// so SEARCH matches them without opening the message: a case-insensitive
// substring match, as RFC 3501 asks, is then a plain substring match.
// Address fields also carry each parsed address (AddressText), so
// "<user (c)@ (c) host>" still matches user@host.
//
// Encoding: a sequence of entries, each uvarint length + lower-case field
// name, uvarint length + lower-case value.

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
)

var indexedFields = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "subject": true,
	"message-id": true, "date": true, "sender": true, "reply-to": true, "in-reply-to": true}

var addressFields = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "sender": true, "reply-to": true}

// IndexedField reports whether SearchIndex holds a header field (any
// spelling).
func IndexedField(key string) bool { return indexedFields[strings.ToLower(key)] }

// SearchIndex reads a message's header (at most 1 MiB, as SEARCH does)
// and returns its index. A header that cannot be parsed gives an empty
// index: no header search matches it, as none matches its blob.
func SearchIndex(r io.Reader) []byte {
	lines, err := Header(io.LimitReader(r, 1<<20))
	if err != nil {
		return []byte{}
	}
	out := []byte{}
	put := func(k, v string) {
		out = binary.AppendUvarint(out, uint64(len(k)))
		out = append(out, k...)
		out = binary.AppendUvarint(out, uint64(len(v)))
		out = append(out, v...)
	}
	for _, line := range lines {
		k, v, _ := strings.Cut(line, ": ")
		lk := strings.ToLower(k)
		if !indexedFields[lk] {
			continue
		}
		put(lk, strings.ToLower(v))
		if addressFields[lk] {
			for _, a := range ParseAddressList(v) {
				put(lk, strings.ToLower(a.AddressText()))
			}
		}
	}
	return out
}

// MatchIndex reports whether any entry of field lowerKey contains
// lowerNeedle; both must be lower-cased (strings.ToLower), so the match
// ignores case.
func MatchIndex(idx, lowerKey, lowerNeedle []byte) bool {
	for len(idx) > 0 {
		kl, n := binary.Uvarint(idx)
		if n <= 0 || kl > uint64(len(idx)-n) {
			return false
		}
		k := idx[n : n+int(kl)]
		idx = idx[n+int(kl):]
		vl, n := binary.Uvarint(idx)
		if n <= 0 || vl > uint64(len(idx)-n) {
			return false
		}
		v := idx[n : n+int(vl)]
		idx = idx[n+int(vl):]
		if bytes.Equal(k, lowerKey) && bytes.Contains(v, lowerNeedle) {
			return true
		}
	}
	return false
}
