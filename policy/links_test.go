package policy

import (
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"example.com", "example.com", true},
		{"  Example.COM. ", "example.com", true},
		{"*.example.com", "example.com", true},
		{".example.com", "example.com", true},
		{"https://www.Example.com/path?q=1", "www.example.com", true},
		{"http://user:pw@evil.example:8080/x", "evil.example", true},
		{"example.com:443", "example.com", true},
		{"bücher.de", "xn--bcher-kva.de", true},
		{"BÜCHER.de", "xn--bcher-kva.de", true},
		{"XN--BCHER-KVA.DE", "xn--bcher-kva.de", true},
		{"münchen.de", "xn--mnchen-3ya.de", true},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah", true},
		{"例え。テスト", "xn--r8jz45g.xn--zckzah", true},
		{"ｅｘａｍｐｌｅ．ｃｏｍ", "example.com", true}, // full-width (NFKC)
		{"1.2.3.4", "1.2.3.4", true},
		{"[2001:DB8::1]:443", "2001:db8::1", true},
		{"2001:db8::1", "2001:db8::1", true},
		{"my_host.example", "my_host.example", true},
		{"tiktok", "tiktok", true},
		{"", "", false},
		{"   ", "", false},
		{"exa mple.com", "", false},
		{"example..com", "", false},
		{"exa<mple.com", "", false},
		{"a." + strings.Repeat("b", 64) + ".com", "", false},
		{strings.Repeat("a.", 130) + "com", "", false},
		{"#comment", "", false},
		{"\xff.com", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeDomain(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPunycodeVectors(t *testing.T) {
	// RFC 3492 section 7.1 samples (lower-cased input).
	tests := map[string]string{
		"ليهمابتكلموشعربي؟":            "egbpdaj6bu4bxfgehfvwxn",
		"他们为什么不说中文":                    "ihqwcrb4cv8a8dqg056pqjye",
		"почемужеонинеговорятпорусски": "b1abfaaepdrnnbgefbadotcwatmq2g4l",
		"3年b組金八先生":                     "3b-ww4c5e180e575a65lsy2b",
		"bücher":                       "bcher-kva",
	}
	for in, want := range tests {
		if got, ok := punycodeEncode(in); !ok || got != want {
			t.Errorf("punycodeEncode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestCheckLinks(t *testing.T) {
	blocked := []string{"example.com", "xn--bcher-kva.de", "1.2.3.4", "tiktok.com"}
	tests := []struct {
		hosts []string
		deny  string // blocked domain named in the refusal, "" for allowed
	}{
		{nil, ""},
		{[]string{"schule.test"}, ""},
		{[]string{"example.com"}, "example.com"},
		{[]string{"www.example.com"}, "example.com"},
		{[]string{"a.b.c.example.com"}, "example.com"},
		{[]string{"WWW.Example.COM."}, "example.com"},
		{[]string{"badexample.com"}, ""},
		{[]string{"example.com.evil.org"}, ""},
		{[]string{"example.co"}, ""},
		{[]string{"com"}, ""},
		{[]string{"schule.test", "shop.bücher.de"}, "xn--bcher-kva.de"},
		{[]string{"1.2.3.4"}, "1.2.3.4"},
		{[]string{"5.1.2.3.4"}, ""},
		{[]string{"vm.tiktok.com"}, "tiktok.com"},
	}
	for _, tt := range tests {
		d := CheckLinks(tt.hosts, blocked) // unsorted on purpose
		if tt.deny == "" {
			if !d.Allow {
				t.Errorf("CheckLinks(%q) = %v, want allowed", tt.hosts, d)
			}
			continue
		}
		if d.Allow || d.Rule != LinkBlock || !strings.Contains(d.Reason, tt.deny) {
			t.Errorf("CheckLinks(%q) = %v, want LINK-BLOCK naming %s", tt.hosts, d, tt.deny)
		}
	}
	if d := CheckLinks([]string{"www.example.com"}, nil); !d.Allow {
		t.Errorf("empty block list refused: %v", d)
	}
	if d := CheckLinks([]string{"x.example.com"}, []string{"a.org", "example.com", "z.org"}); d.Allow {
		t.Errorf("sorted list: subdomain allowed")
	}
}
