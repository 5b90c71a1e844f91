package links

import "io"

// Stream is Hosts for a message written to it, for a caller that passes
// the bytes on elsewhere at the same time (SMTP DATA writing its blob and
// summary in the same pass). Writes never fail; Finish returns what Hosts
// would have returned for the whole message.
type Stream struct {
	pw    *pullWriter
	hosts []string
	err   error
}

// Stream starts a check of one message.
func (l Limits) Stream() *Stream {
	s := &Stream{}
	s.pw = newPullWriter(func(r io.Reader) error {
		s.hosts, s.err = l.Hosts(r)
		return nil
	})
	return s
}

func (s *Stream) Write(p []byte) (int, error) { return s.pw.Write(p) }

// Finish ends the message and returns its hosts (see Limits.Hosts).
func (s *Stream) Finish() ([]string, error) {
	s.pw.Close()
	return s.hosts, s.err
}
