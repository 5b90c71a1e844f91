package carddavd

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strings"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"schulhof/internal/addressbook"
	"schulhof/policy"
	"schulhof/store"
)

// backend is go-webdav's carddav.Backend over the store. A listing (Depth
// 1 PROPFIND, addressbook-query) reads the accounts' address book view
// (store.People) and the groups once; a multiget or GET reads one account
// per card asked for, with the groups read once per request.
type backend struct{ h *Handler }

var _ carddav.Backend = (*backend)(nil)

func principalPath(me string) string { return Prefix + me + "/" }
func homePath(me string) string      { return principalPath(me) + homeName + "/" }
func bookPath(me string) string      { return homePath(me) + bookName + "/" }

func (b *backend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	rq, err := fromContext(ctx)
	if err != nil {
		return "", err
	}
	return principalPath(rq.acct.Name), nil
}

func (b *backend) AddressBookHomeSetPath(ctx context.Context) (string, error) {
	rq, err := fromContext(ctx)
	if err != nil {
		return "", err
	}
	return homePath(rq.acct.Name), nil
}

func (b *backend) book(me string) carddav.AddressBook {
	return carddav.AddressBook{Path: bookPath(me), Name: "Schuladressbuch",
		Description: "Das gemeinsame Adressbuch der Schule (nur lesbar)", MaxResourceSize: 4096,
		SupportedAddressData: []carddav.AddressDataType{{ContentType: vcard.MIMEType, Version: "3.0"}, {ContentType: vcard.MIMEType, Version: "4.0"}}}
}

func (b *backend) ListAddressBooks(ctx context.Context) ([]carddav.AddressBook, error) {
	rq, err := fromContext(ctx)
	if err != nil {
		return nil, err
	}
	return []carddav.AddressBook{b.book(rq.acct.Name)}, nil
}

func notFound() error { return webdav.NewHTTPError(http.StatusNotFound, errors.New("nicht gefunden")) }

func (b *backend) GetAddressBook(ctx context.Context, p string) (*carddav.AddressBook, error) {
	rq, err := fromContext(ctx)
	if err != nil {
		return nil, err
	}
	if strings.TrimSuffix(p, "/")+"/" != bookPath(rq.acct.Name) {
		return nil, notFound()
	}
	ab := b.book(rq.acct.Name)
	return &ab, nil
}

// readOnly is the refusal of every write; ServeHTTP answers writes before
// the library runs, so these are the second line.
func readOnly() error {
	d := policy.Deny(policy.AddressBookReadOnly, "Das Adressbuch ist über CardDAV nur lesbar.")
	return webdav.NewHTTPError(http.StatusForbidden, errors.New(d.String()))
}

func (b *backend) CreateAddressBook(context.Context, *carddav.AddressBook) error { return readOnly() }
func (b *backend) DeleteAddressBook(context.Context, string) error               { return readOnly() }
func (b *backend) DeleteAddressObject(context.Context, string) error             { return readOnly() }
func (b *backend) PutAddressObject(context.Context, string, vcard.Card, *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	return nil, readOnly()
}

// memberships reads the group memberships once per request.
func (b *backend) memberships(rq *request) (map[string][]string, error) {
	if rq.of == nil {
		of, err := b.h.opt.Store.Memberships()
		if err != nil {
			return nil, err
		}
		rq.of = of
	}
	return rq.of, nil
}

// object is one card's resource. A PROPFIND that lists ETags gets no
// vCard built (rq.noCards): the ETag is computed from the line itself.
func (b *backend) object(rq *request, e *addressbook.Entry) carddav.AddressObject {
	ao := carddav.AddressObject{Path: bookPath(rq.acct.Name) + e.Account + ".vcf", ETag: etag(e)}
	if !rq.noCards || rq.lengths {
		ao.Card = card(e, b.h.opt.Domain, rq.version)
	}
	if rq.lengths {
		var n countWriter
		if err := vcard.NewEncoder(&n).Encode(ao.Card); err == nil {
			ao.ContentLength = int64(n)
		}
	}
	return ao
}

func (b *backend) GetAddressObject(ctx context.Context, p string, req *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	rq, err := fromContext(ctx)
	if err != nil {
		return nil, err
	}
	dir, file := path.Split(p)
	name, ok := strings.CutSuffix(file, ".vcf")
	if dir != bookPath(rq.acct.Name) || !ok || name == "" {
		return nil, notFound()
	}
	person, err := b.person(rq, name)
	if err != nil {
		return nil, err
	}
	of, err := b.memberships(rq)
	if err != nil {
		return nil, err
	}
	e := addressbook.New(person, of[name], b.h.opt.Domain)
	ao := b.object(rq, &e)
	return &ao, nil
}

// person reads one account's view; a multiget's first card reads every
// card the multiget names, in one transaction.
func (b *backend) person(rq *request, name string) (*store.Person, error) {
	if rq.people == nil && len(rq.hrefs) > 1 {
		var names []string
		for _, h := range rq.hrefs {
			dir, file := path.Split(h)
			if n, ok := strings.CutSuffix(file, ".vcf"); ok && dir == bookPath(rq.acct.Name) {
				names = append(names, n)
			}
		}
		people, err := b.h.opt.Store.PeopleNamed(names)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if _, ok := people[n]; !ok {
				people[n] = store.Person{} // asked for, and not there
			}
		}
		rq.people = people
	}
	if p, ok := rq.people[name]; ok {
		if p.Name == "" {
			return nil, notFound()
		}
		return &p, nil
	}
	p, err := b.h.opt.Store.Person(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound()
	}
	return p, err
}

func (b *backend) ListAddressObjects(ctx context.Context, p string, req *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	rq, err := fromContext(ctx)
	if err != nil {
		return nil, err
	}
	if strings.TrimSuffix(p, "/")+"/" != bookPath(rq.acct.Name) {
		return nil, notFound()
	}
	all, err := addressbook.All(b.h.opt.Store, b.h.opt.Domain)
	if err != nil {
		return nil, err
	}
	out := make([]carddav.AddressObject, len(all))
	for i := range all {
		out[i] = b.object(rq, &all[i])
	}
	return out, nil
}

func (b *backend) QueryAddressObjects(ctx context.Context, p string, q *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	all, err := b.ListAddressObjects(ctx, p, &q.DataRequest)
	if err != nil {
		return nil, err
	}
	if len(q.PropFilters) == 0 {
		// RFC 6352 §10.5: an empty filter matches every card (go-webdav's
		// Filter would match none).
		q = &carddav.AddressBookQuery{DataRequest: q.DataRequest, Limit: q.Limit, FilterTest: carddav.FilterAllOf}
	}
	return carddav.Filter(q, all)
}

// countWriter counts what is written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
