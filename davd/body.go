package davd

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"

	"schulhof/policy"
)

// xmlMethods are the methods whose body is an XML document.
var xmlMethods = map[string]bool{"PROPFIND": true, "PROPPATCH": true, "LOCK": true}

// boundBody bounds every request body but a PUT's (SIZE-20MB and the quota
// bound those) by xml_body_bytes, as Apache's LimitXMLRequestBody does:
// with a Content-Length the answer comes before a byte is read, a chunked
// body is cut one byte past the bound. An XML body is read here (at most
// the bound) and checked for well-formed namespaces, then handed on from
// memory. MKCOL with a body is 415 (RFC 4918 9.3.1). Other bodies are not
// used; a reader ends them at the bound. It returns false when it answered.
func (h *Handler) boundBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPut || r.Body == nil || r.Body == http.NoBody {
		return true
	}
	limit := h.opt.Policy.Bound(policy.XMLBodyBytes)
	if r.ContentLength > limit {
		h.refuse(w, r, h.opt.Policy.CheckBound(policy.XMLBodyBytes, r.ContentLength))
		return false
	}
	if r.Method == "MKCOL" {
		var one [1]byte
		if n, _ := io.ReadFull(r.Body, one[:]); n > 0 {
			w.Header().Set("Connection", "close")
			http.Error(w, "MKCOL mit Inhalt wird nicht unterstützt.", http.StatusUnsupportedMediaType)
			return false
		}
		return true
	}
	if !xmlMethods[r.Method] {
		r.Body = &boundedBody{ReadCloser: r.Body, left: limit}
		return true
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		http.Error(w, "request body not readable", http.StatusBadRequest)
		return false
	}
	if int64(len(b)) > limit {
		h.refuse(w, r, h.opt.Policy.CheckBound(policy.XMLBodyBytes, int64(len(b))))
		return false
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := checkNamespaces(b); err != nil {
			http.Error(w, "invalid XML: "+err.Error(), http.StatusBadRequest)
			return false
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return true
}

// boundedBody ends a body nobody reads in full at the bound.
type boundedBody struct {
	io.ReadCloser
	left int64
}

var errBodyTooLarge = errors.New("request body over xml_body_bytes")

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	return n, err
}

// checkNamespaces refuses what the Namespaces in XML recommendation forbids
// and encoding/xml (and the library's fork of it) lets through: a prefix
// that is not declared, and a prefix declared as the empty name
// (xmlns:p="", section 5 of the recommendation). It also checks that start
// and end tags match, which RawToken leaves to its caller.
func checkNamespaces(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	type scope struct {
		name     xml.Name
		prefixes map[string]bool
	}
	var stack []scope
	declared := func(prefix string) bool {
		if prefix == "xml" || prefix == "xmlns" {
			return true
		}
		for i := len(stack) - 1; i >= 0; i-- {
			if stack[i].prefixes[prefix] {
				return true
			}
		}
		return false
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) > 0 {
				return errors.New("unexpected end of document")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := scope{name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					if a.Value == "" {
						return errors.New("empty namespace name for prefix " + a.Name.Local)
					}
					if s.prefixes == nil {
						s.prefixes = map[string]bool{}
					}
					s.prefixes[a.Name.Local] = true
				}
			}
			stack = append(stack, s)
			if t.Name.Space != "" && !declared(t.Name.Space) {
				return errors.New("undeclared namespace prefix " + t.Name.Space)
			}
			for _, a := range t.Attr {
				if a.Name.Space != "" && !declared(a.Name.Space) {
					return errors.New("undeclared namespace prefix " + a.Name.Space)
				}
			}
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name {
				return errors.New("mismatched end tag " + t.Name.Local)
			}
			stack = stack[:len(stack)-1]
		}
	}
}
