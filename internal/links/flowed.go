package links

import "io"

// flowedWriter undoes format=flowed (RFC 3676) on the text written to it,
// as clients display it: a line ending in a space is soft and joined with
// the next line of the same quote depth; with delsp=yes that space is
// deleted too, so "https://ev \r\nil.example" shows as one link. Quote
// markers and space-stuffing are removed; hard line ends stay.
//
// Memory is constant: only the blanks at the end of the current line are
// held back until the line's end tells whether they end a soft line.
type flowedWriter struct {
	w     io.Writer
	delsp bool

	lineStart  bool // at the start of a line: quote markers next
	stuffCheck bool // after the quote markers: one space is stuffing
	depth      int  // quote depth of the current line
	held       int  // blanks at the end of the current line, not yet written
	softDepth  int  // depth of the previous line if it was soft, else -1
	out        []byte
}

// maxHeldBlanks: a longer run of blanks is shortened (it separates words
// all the same), so a hostile run cannot grow the buffer.
const maxHeldBlanks = 64

func newFlowedWriter(w io.Writer, delsp bool) *flowedWriter {
	return &flowedWriter{w: w, delsp: delsp, lineStart: true, softDepth: -1}
}

func (f *flowedWriter) Write(p []byte) (int, error) {
	f.out = f.out[:0]
	for _, c := range p {
		if f.lineStart {
			if c == '>' {
				f.depth++
				continue
			}
			f.lineStart, f.stuffCheck = false, true
			if f.softDepth >= 0 && f.softDepth != f.depth {
				f.out = append(f.out, '\n') // a soft break between depths is hard
			}
			f.softDepth = -1
		}
		if f.stuffCheck {
			f.stuffCheck = false
			if c == ' ' {
				continue
			}
		}
		switch c {
		case '\r':
			continue // CRLF and LF end lines alike
		case '\n':
			if f.held > 0 { // soft
				if f.delsp {
					f.held--
				}
				f.flushHeld()
				f.softDepth = f.depth
			} else {
				f.out = append(f.out, '\n')
			}
			f.lineStart, f.depth, f.held = true, 0, 0
		case ' ':
			f.held = min(f.held+1, maxHeldBlanks)
		default:
			f.flushHeld()
			f.out = append(f.out, c)
		}
	}
	_, err := f.w.Write(f.out)
	return len(p), err
}

func (f *flowedWriter) flushHeld() {
	for ; f.held > 0; f.held-- {
		f.out = append(f.out, ' ')
	}
}
