package main

import (
	"reflect"
	"testing"
	"time"
)

func TestGlobalFlagsAnywhere(t *testing.T) {
	o, rest, err := globalFlags([]string{"user", "--data", "/d", "add", "--first=Max", "--domain=x.de", "--config", "c.toml"})
	if err != nil || o.DataDir != "/d" || o.Domain != "x.de" || o.ConfigFile != "c.toml" {
		t.Fatalf("%+v %v", o, err)
	}
	if !reflect.DeepEqual(rest, []string{"user", "add", "--first=Max"}) {
		t.Fatalf("rest %v", rest)
	}
	if _, _, err := globalFlags([]string{"serve", "--data"}); err == nil {
		t.Fatal("--data without value accepted")
	}
}

func TestParseBytes(t *testing.T) {
	good := map[string]int64{"52428800": 52428800, "100MB": 100 << 20, "100 MiB": 100 << 20, "1GB": 1 << 30, "512kb": 512 << 10}
	for in, want := range good {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-5MB", "1.5GB", "10TB", "99999999999999GB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) accepted", in)
		}
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "24h": 24 * time.Hour, "30m": 30 * time.Minute} {
		if got, err := parseSince(in); err != nil || got != want {
			t.Errorf("parseSince(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "x", "-1d", "-5h"} {
		if _, err := parseSince(in); err == nil {
			t.Errorf("parseSince(%q) accepted", in)
		}
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	c, rest := findCommand([]string{"user", "lock", "max.mueller", "--reason", "Verstoß"})
	if c == nil || c.path != "user lock" {
		t.Fatal("user lock not found")
	}
	fs, pos, err := c.parse(rest)
	if err != nil || len(pos) != 1 || pos[0] != "max.mueller" || str(fs, "reason") != "Verstoß" {
		t.Fatalf("%v %v", pos, err)
	}
}
