//go:build pprof

package main

// A profiling build for the scale runs (go build -tags pprof): with
// SCHULHOF_PPROF=host:port, `schulhof serve` also answers net/http/pprof
// there, with block and mutex profiles on. Never in a release build.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
)

func init() {
	addr := os.Getenv("SCHULHOF_PPROF")
	if addr == "" {
		return
	}
	runtime.SetBlockProfileRate(10000) // one sample per 10 µs blocked
	runtime.SetMutexProfileFraction(10)
	go http.ListenAndServe(addr, nil)
}
