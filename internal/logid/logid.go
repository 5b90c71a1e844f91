// Package logid gives every connection and request a short random ID
// that appears as session=… on each log line written for it, so the lines
// of one SMTP session, IMAP session, HTTP request or chat socket can be
// picked out of a busy log. The ID is random: it says nothing about who
// is connected.
package logid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// Key is the log attribute name.
const Key = "session"

// New returns a fresh ID (12 hex digits).
func New() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type ctxKey struct{}

// With returns ctx carrying id; log lines written with it (InfoContext
// and friends) through Handler get session=id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From is the ID ctx carries, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Handler wraps h so that a record logged with a context that carries an
// ID gets the session attribute.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(Key, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler { return handler{h.Handler.WithAttrs(as)} }
func (h handler) WithGroup(name string) slog.Handler    { return handler{h.Handler.WithGroup(name)} }

// NewLogger is the server's logger on w: "json" or text (anything else),
// with IDs from contexts added.
func NewLogger(w interface{ Write([]byte) (int, error) }, format string) *slog.Logger {
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, nil)
	} else {
		h = slog.NewTextHandler(w, nil)
	}
	return slog.New(Handler(h))
}
