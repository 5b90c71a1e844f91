package imap

// SelectQResync is the QRESYNC parameter of SELECT and EXAMINE (RFC 7162
// section 3.2.5): what the client remembers of the mailbox.
type SelectQResync struct {
	UIDValidity uint32
	ModSeq      uint64
	KnownUIDs   UIDSet                 // optional, nil means all UIDs
	SeqMatch    *SelectQResyncSeqMatch // optional
}

// SelectQResyncSeqMatch pairs message sequence numbers the client knows with
// their UIDs, so a server that forgot old expunges can narrow VANISHED.
type SelectQResyncSeqMatch struct {
	SeqNums SeqSet
	UIDs    UIDSet
}
