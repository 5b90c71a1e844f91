package store

// The mailmsgs records are read for every FETCH, SEARCH and STORE, often
// a whole mailbox at a time, so they are kept in a compact binary form
// instead of JSON (whose decoding was a third of the IMAP server's CPU):
//
//	0x01 version
//	UID (4 BE) | size (8 BE) | internal date: Unix seconds (8 BE), nanos (4 BE)
//	| MODSEQ (8 BE) | blob hash (32, raw SHA-256)
//	| number of flags (uvarint), each: length (uvarint) bytes
//
// Version 0x02 is the same with a sequenced content key (contentkey.go):
// its sequence number (8 BE) in front of the raw SHA-256.
//
// Records written by older versions are JSON (they start with '{') and
// are still read; they are rewritten in the new form when next changed.

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const (
	msgCodecV1 = 0x01 // content-addressed key
	msgCodecV2 = 0x02 // sequenced key
)

const (
	msgFixedLen   = 1 + 4 + 8 + 8 + 4 + 8 + 32
	msgFixedLenV2 = msgFixedLen + 8
)

// msgFixed is the length of a binary record's fixed part, 0 for a record
// too short or of no known version.
func msgFixed(v []byte) int {
	switch {
	case len(v) >= msgFixedLen && v[0] == msgCodecV1:
		return msgFixedLen
	case len(v) >= msgFixedLenV2 && v[0] == msgCodecV2:
		return msgFixedLenV2
	}
	return 0
}

func encodeMessage(m *Message) ([]byte, error) {
	version := byte(msgCodecV1)
	key, err := hex.DecodeString(m.Blob)
	if raw, ok := seqKeyRaw(m.Blob); ok {
		version, key, err = msgCodecV2, raw, nil
	} else if err == nil && len(key) != 32 {
		err = errBadMessageRecord
	}
	if err != nil {
		return nil, fmt.Errorf("message %d: invalid blob hash %q", m.UID, m.Blob)
	}
	n := msgFixedLenV2 + binary.MaxVarintLen64
	for _, f := range m.Flags {
		n += binary.MaxVarintLen64 + len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, version)
	b = binary.BigEndian.AppendUint32(b, m.UID)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Size))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Internal.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(m.Internal.Nanosecond()))
	b = binary.BigEndian.AppendUint64(b, m.ModSeq)
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(m.Flags)))
	for _, f := range m.Flags {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b, nil
}

var errBadMessageRecord = errors.New("malformed message record")

func decodeMessage(v []byte, m *Message) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, m)
	}
	fixed := msgFixed(v)
	if fixed == 0 {
		return errBadMessageRecord
	}
	p := v[1:]
	m.UID = binary.BigEndian.Uint32(p)
	m.Size = int64(binary.BigEndian.Uint64(p[4:]))
	sec, nsec := int64(binary.BigEndian.Uint64(p[12:])), int64(binary.BigEndian.Uint32(p[20:]))
	m.Internal = time.Unix(sec, nsec).UTC()
	m.ModSeq = binary.BigEndian.Uint64(p[24:])
	if fixed == msgFixedLenV2 {
		m.Blob = seqKeyOf(p[32:72])
	} else {
		m.Blob = hex.EncodeToString(p[32:64])
	}
	p = v[fixed:]
	count, k := binary.Uvarint(p)
	if k <= 0 || count > uint64(len(p)) {
		return errBadMessageRecord
	}
	p = p[k:]
	m.Flags = nil
	if count > 0 {
		m.Flags = make([]string, 0, count)
	}
	for range count {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return errBadMessageRecord
		}
		m.Flags = append(m.Flags, flagString(p[k:k+int(l)]))
		p = p[k+int(l):]
	}
	if len(p) != 0 {
		return errBadMessageRecord
	}
	return nil
}

// flagString returns the system flags as constants: most messages carry
// only those, and a whole mailbox is decoded at a time.
func flagString(b []byte) string {
	switch string(b) {
	case `\Seen`:
		return `\Seen`
	case `\Answered`:
		return `\Answered`
	case `\Flagged`:
		return `\Flagged`
	case `\Deleted`:
		return `\Deleted`
	case `\Draft`:
		return `\Draft`
	}
	return string(b)
}

// decodeFlagsModSeq appends a record's flags to buf and returns its
// MODSEQ, decoding nothing else.
func decodeFlagsModSeq(v []byte, buf []string) ([]string, uint64, error) {
	if len(v) > 0 && v[0] == '{' {
		var m Message
		if err := decodeMessage(v, &m); err != nil {
			return buf, 0, err
		}
		return append(buf, m.Flags...), m.ModSeq, nil
	}
	fixed := msgFixed(v)
	if fixed == 0 {
		return buf, 0, errBadMessageRecord
	}
	modseq := binary.BigEndian.Uint64(v[1+24:])
	p := v[fixed:]
	count, k := binary.Uvarint(p)
	if k <= 0 || count > uint64(len(p)) {
		return buf, 0, errBadMessageRecord
	}
	p = p[k:]
	for range count {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return buf, 0, errBadMessageRecord
		}
		buf = append(buf, flagString(p[k:k+int(l)]))
		p = p[k+int(l):]
	}
	return buf, modseq, nil
}
