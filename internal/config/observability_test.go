package config

import (
	"strings"
	"testing"
)

func TestMetricsListenLoopbackOnly(t *testing.T) {
	c, err := Load(Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "127.0.0.1:9327" || c.Log.Format != "" {
		t.Fatalf("defaults: metrics %+v, log %+v", c.Metrics, c.Log)
	}
	for text, ok := range map[string]bool{
		"[metrics]\nlisten = \"\"":                                  true, // disabled
		"[metrics]\nlisten = \"[::1]:9000\"":                        true,
		"[metrics]\nlisten = \"localhost:9000\"":                    true,
		"[metrics]\nlisten = \":9327\"":                             false, // every interface
		"[metrics]\nlisten = \"0.0.0.0:9327\"":                      false,
		"[metrics]\nlisten = \"192.0.2.7:9327\"":                    false,
		"[metrics]\nlisten = \"0.0.0.0:9327\"\nallow_remote = true": true,
		"[log]\nformat = \"json\"":                                  true,
		"[log]\nformat = \"xml\"":                                   false,
	} {
		_, err := Load(Overrides{ConfigFile: write(t, text)})
		if ok && err != nil {
			t.Errorf("%q refused: %v", text, err)
		}
		if !ok && err == nil {
			t.Errorf("%q accepted", text)
		}
		if !ok && strings.Contains(text, "listen") && !strings.Contains(err.Error(), "allow_remote") {
			t.Errorf("%q: %v does not say how to allow it", text, err)
		}
	}
}
