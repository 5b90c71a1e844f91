package bench

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms, shuffled: the p-th percentile by nearest rank is p ms.
	var sample []time.Duration
	for i := 1; i <= 100; i++ {
		sample = append(sample, time.Duration(i)*time.Millisecond)
	}
	rand.Shuffle(len(sample), func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
	s := summarize("x", sample, 0, time.Second)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", s.P50MS, 50}, {"p90", s.P90MS, 90}, {"p99", s.P99MS, 99}, {"max", s.MaxMS, 100}, {"mean", s.MeanMS, 50.5}} {
		if c.got != c.want {
			t.Errorf("%s = %v ms, want %v", c.name, c.got, c.want)
		}
	}
	if s.Count != 100 || s.PerSec != 100 {
		t.Errorf("count %d per s %v, want 100 and 100", s.Count, s.PerSec)
	}
}

func TestPercentileSmallSamples(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	cases := []struct {
		sample []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2), 51, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0, 1 * time.Millisecond},
		{ms(3, 3, 3, 100), 75, 3 * time.Millisecond},
		{ms(3, 3, 3, 100), 76, 100 * time.Millisecond},
	}
	for _, c := range cases {
		if got := Percentile(c.sample, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.sample, c.p, got, c.want)
		}
	}
}

func TestResultRendering(t *testing.T) {
	r := newRecorder()
	r.ok("message", 2*time.Millisecond)
	r.ok("message", 4*time.Millisecond)
	r.fail("message", "550", nil)
	res := &Result{Kind: "smtp", Addr: "a:1", TLS: TLSNone, Workers: 1, Wall: time.Second}
	r.fill(res)
	if res.Total.Count != 2 || res.Total.Errors != 1 || res.Errors["550"] != 1 {
		t.Fatalf("totals %+v errors %v", res.Total, res.Errors)
	}
	if s := res.String(); !strings.Contains(s, "message") || !strings.Contains(s, "550") {
		t.Errorf("table misses rows:\n%s", s)
	}
	if j := string(res.JSON()); !strings.Contains(j, `"p99_ms": 4`) {
		t.Errorf("json: %s", j)
	}
}

func TestParseRangeAndUsers(t *testing.T) {
	a, b, err := ParseRange("1..100")
	if err != nil || a != 1 || b != 100 {
		t.Fatalf("ParseRange = %d %d %v", a, b, err)
	}
	if _, _, err := ParseRange("5..1"); err == nil {
		t.Error("5..1 accepted")
	}
	u := PatternUsers("testuser%d", 1, 3, "pass", "school.test")
	if len(u) != 3 || u[2].User != "testuser3" || u[2].Address != "testuser3@school.test" {
		t.Errorf("PatternUsers = %+v", u)
	}
}

func TestReadUsersFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "users.txt")
	os.WriteFile(p, []byte("# comment\nanna.a Pw1!x\n\nben.b;Pw2!y;ben@other.test\n"), 0o600)
	u, err := ReadUsersFile(p, "school.test")
	if err != nil {
		t.Fatal(err)
	}
	want := []Cred{{"anna.a", "Pw1!x", "anna.a@school.test"}, {"ben.b", "Pw2!y", "ben@other.test"}}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("got %+v, want %+v", u, want)
	}
	os.WriteFile(p, []byte("lonely\n"), 0o600)
	if _, err := ReadUsersFile(p, "school.test"); err == nil {
		t.Error("line without password accepted")
	}
}

func TestParseMix(t *testing.T) {
	mix, err := ParseMix("fetch_body=3, noop=1")
	if err != nil || !reflect.DeepEqual(mix, []Weight{{OpFetchBody, 3}, {OpNoop, 1}}) {
		t.Fatalf("%v %v", mix, err)
	}
	for _, bad := range []string{"fetch=1", "noop", "noop=-1", "noop=x"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
