// Latency statistics and the Result of a run.

package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of an ascending
// sorted sample by the nearest-rank method: the smallest value such that at
// least p % of the sample is less than or equal to it. It returns 0 for an
// empty sample. Nearest-rank never invents a value that was not measured,
// which is what a latency report should show.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// OpStats summarises one operation (an SMTP message, an IMAP command).
// Latencies are in milliseconds so the JSON form is readable as is.
type OpStats struct {
	Name   string  `json:"name"`
	Count  int     `json:"count"`  // succeeded
	Errors int     `json:"errors"` // failed
	PerSec float64 `json:"per_sec"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// summarize computes the stats of one operation's latencies over the wall
// time of the run. It sorts lat in place.
func summarize(name string, lat []time.Duration, errors int, wall time.Duration) OpStats {
	slices.Sort(lat)
	s := OpStats{Name: name, Count: len(lat), Errors: errors}
	if wall > 0 {
		s.PerSec = float64(len(lat)) / wall.Seconds()
	}
	if len(lat) == 0 {
		return s
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	s.MeanMS = ms(sum / time.Duration(len(lat)))
	s.P50MS = ms(Percentile(lat, 50))
	s.P90MS = ms(Percentile(lat, 90))
	s.P99MS = ms(Percentile(lat, 99))
	s.MaxMS = ms(lat[len(lat)-1])
	return s
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// recorder collects latencies and errors of one worker; every worker has its
// own so the hot path takes no lock. merge combines them at the end.
type recorder struct {
	lat     map[string][]time.Duration
	opErr   map[string]int
	errs    map[string]int    // by reply code / kind
	samples map[string]string // first error text per kind
}

func newRecorder() *recorder {
	return &recorder{lat: map[string][]time.Duration{}, opErr: map[string]int{},
		errs: map[string]int{}, samples: map[string]string{}}
}

func (r *recorder) ok(op string, d time.Duration) { r.lat[op] = append(r.lat[op], d) }

// fail counts a failed op under its error kind (e.g. "550", "FETCH NO", "conn").
func (r *recorder) fail(op, kind string, err error) {
	r.opErr[op]++
	r.errs[kind]++
	if _, ok := r.samples[kind]; !ok && err != nil {
		r.samples[kind] = err.Error()
	}
}

func (r *recorder) merge(o *recorder) {
	for k, v := range o.lat {
		r.lat[k] = append(r.lat[k], v...)
	}
	for k, v := range o.opErr {
		r.opErr[k] += v
	}
	for k, v := range o.errs {
		r.errs[k] += v
	}
	for k, v := range o.samples {
		if _, ok := r.samples[k]; !ok {
			r.samples[k] = v
		}
	}
}

// fill writes the per-op and total stats of r into res.
func (r *recorder) fill(res *Result) {
	names := make([]string, 0, len(r.lat))
	seen := map[string]bool{}
	for k := range r.lat {
		names = append(names, k)
		seen[k] = true
	}
	for k := range r.opErr {
		if !seen[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var all []time.Duration
	errs := 0
	for _, n := range names {
		res.Ops = append(res.Ops, summarize(n, r.lat[n], r.opErr[n], res.Wall))
		all = append(all, r.lat[n]...)
		errs += r.opErr[n]
	}
	res.Total = summarize("total", all, errs, res.Wall)
	res.Errors = r.errs
	res.ErrorSamples = r.samples
}

// Result is the outcome of one load run.
type Result struct {
	Kind    string        `json:"kind"` // "smtp" or "imap"
	Addr    string        `json:"addr"`
	TLS     TLSMode       `json:"tls"`
	Workers int           `json:"workers"` // connections or clients
	Size    int           `json:"size,omitempty"`
	Wall    time.Duration `json:"-"`
	WallS   float64       `json:"wall_s"`
	Ops     []OpStats     `json:"ops"`
	Total   OpStats       `json:"total"`
	// Errors counts failures by SMTP reply code ("550"), IMAP response
	// ("FETCH NO") or "conn" for connection errors.
	Errors       map[string]int    `json:"errors,omitempty"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`

	// IMAP with Prepare: INBOX sizes at the start (mailbox size drives
	// SEARCH and SELECT costs, so compare runs with similar sizes).
	InboxMin int `json:"inbox_min,omitempty"`
	InboxMax int `json:"inbox_max,omitempty"`

	// SMTP only: messages accepted (250 after DATA) and, with delivery
	// verification, found in the recipients' INBOXes.
	Accepted       int     `json:"accepted,omitempty"`
	AcceptedPerSec float64 `json:"accepted_per_sec,omitempty"`
	Verified       bool    `json:"verified,omitempty"`
	Expected       int     `json:"expected_deliveries,omitempty"` // one per recipient
	Delivered      int     `json:"delivered,omitempty"`
	// DeliveredPerSec is Delivered over the time from the first MAIL FROM
	// until the poll that found the last delivery.
	DeliveredPerSec float64 `json:"delivered_per_sec,omitempty"`
	DeliveredS      float64 `json:"delivered_s,omitempty"`
}

// JSON returns the result as indented JSON.
func (r *Result) JSON() []byte {
	r.WallS = r.Wall.Seconds()
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// String renders the result as a table.
func (r *Result) String() string {
	var b strings.Builder
	unit := "connections"
	if r.Kind != "smtp" {
		unit = "clients"
	}
	fmt.Fprintf(&b, "%s %s (tls %s), %d %s, %.1f s", r.Kind, r.Addr, r.TLS, r.Workers, unit, r.Wall.Seconds())
	if r.Size > 0 {
		fmt.Fprintf(&b, ", %d-byte messages", r.Size)
	}
	if r.InboxMax > 0 {
		fmt.Fprintf(&b, ", INBOXes of %d–%d messages", r.InboxMin, r.InboxMax)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tok\terrors\tper s\tmean ms\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	row := func(s OpStats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			s.Name, s.Count, s.Errors, s.PerSec, s.MeanMS, s.P50MS, s.P90MS, s.P99MS, s.MaxMS)
	}
	for _, s := range r.Ops {
		row(s)
	}
	if len(r.Ops) > 1 {
		row(r.Total)
	}
	tw.Flush()
	if r.Kind == "smtp" {
		fmt.Fprintf(&b, "\naccepted: %d messages, %.1f/s\n", r.Accepted, r.AcceptedPerSec)
		if r.Verified {
			fmt.Fprintf(&b, "delivered: %d of %d deliveries in INBOXes after %.2f s, %.1f/s\n",
				r.Delivered, r.Expected, r.DeliveredS, r.DeliveredPerSec)
		}
	} else {
		fmt.Fprintf(&b, "\ncommands: %d ok, %.1f/s, p50 %.2f ms, p99 %.2f ms\n", r.Total.Count, r.Total.PerSec, r.Total.P50MS, r.Total.P99MS)
	}
	if len(r.Errors) > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("errors:\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "  %-12s %6d  e.g. %s\n", k, r.Errors[k], r.ErrorSamples[k])
		}
	}
	return b.String()
}
