//go:build pprof

package main

// A profiling build for the scale runs (go build -tags pprof): with
// SCHULHOF_PPROF=host:port, `schulhof serve` also answers net/http/pprof
// there, with block and mutex profiles on, and bbolt's counters at
// /debug/store. Never in a release build.

import (
	"encoding/json"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"

	"schulhof/store"
)

func init() {
	addr := os.Getenv("SCHULHOF_PPROF")
	if addr == "" {
		return
	}
	runtime.SetBlockProfileRate(10000) // one sample per 10 µs blocked
	runtime.SetMutexProfileFraction(10)
	storeOpened = func(st *store.Store) {
		http.HandleFunc("/debug/store", func(w http.ResponseWriter, _ *http.Request) {
			json.NewEncoder(w).Encode(st.EngineStats())
		})
		go http.ListenAndServe(addr, nil)
	}
}
