#!/bin/bash
# Overhead of metrics and per-session log IDs: the same SMTP submission
# load (`schulhof bench smtp`: AUTH, 20 connections, 10 KB messages, 20
# accounts, MAIL-MASS off) against a schulhof built without them
# ($W/before) and one with them ($W/after, metrics listener on), a fresh
# server per run, before and after interleaved in every round. Prints per
# round: messages/s accepted, errors, p50 ms, p99 ms, and the server's CPU
# time per accepted message in µs (user+sys from /proc during the load:
# less sensitive to other load on the machine than the rate).
#
#   git archive <commit before> | tar -x -C /tmp/mbench/src && (cd /tmp/mbench/src && go build -o /tmp/mbench/before ./cmd/schulhof)
#   go build -o /tmp/mbench/after ./cmd/schulhof
#   bash internal/bench/metrics_overhead.sh ROUNDS SECONDS
set -e
. "$(cd "$(dirname "$0")" && pwd)/schulhof_server.sh"
W=${W:-/tmp/mbench}; mkdir -p $W; cd $W
ROUNDS=${1:-3}; SECS=${2:-10}
LIMITS=$MAIL_MASS_OFF
# cpu_ticks PID: user+sys clock ticks the process used so far.
cpu_ticks() { awk '{print $14+$15}' /proc/$1/stat; }
for r in $(seq $ROUNDS); do
  line="round $r:"
  for kind in before after; do
    BIN=$W/$kind
    NO_METRICS=; [ $kind = before ] && NO_METRICS=1
    start_schulhof 20 "$LIMITS"
    c0=$(cpu_ticks $SRV)
    $BIN --config cfg.toml bench smtp --addr 127.0.0.1:$SMTP_PORT --users-file users.txt --conns 20 --duration ${SECS}s --json > run.json
    c1=$(cpu_ticks $SRV)
    s=$(python3 -c 'import json,sys; d=json.load(open("run.json")); t=int(sys.argv[2])-int(sys.argv[1]); print(round(d["accepted_per_sec"]), d.get("errors",""), d["total"]["p50_ms"], d["total"]["p99_ms"], "cpu/msg", round(t*1e6/int(sys.argv[3])/d["accepted"]), "µs")' $c0 $c1 $(getconf CLK_TCK))
    stop_schulhof
    line="$line $kind $s |"
  done
  echo "$line"
done
