#!/bin/bash
# Small WebDAV writes, Schulhof vs Apache mod_dav in one run, both as
# separate servers over TLS: a fresh `schulhof serve` with HTTPS on
# 127.0.0.1:$HTTPS_PORT (self-signed) and a teacher bench.n01, and Apache
# from ../shared/peers (https://127.0.0.1:10443/dav/, testuser). davd's Go
# benchmarks (BENCH) run ROUNDS times against each, interleaved, so both
# see the same machine state; the lines are printed as they come. By
# default: PutSmallDistinct (one client, 4 KiB of new content per file),
# PutSmallDistinctClients (the same with eight clients) and PropfindFile
# (one client, a request that writes nothing: the cost of HTTP and TLS
# alone). The disk's own floor under a durable PUT is bbolt's
# BenchmarkSyncFloor (third_party/bbolt/wal_linux_test.go).
#
#   go build -o /tmp/imapbench/schulhof ./cmd/schulhof
#   bash /work/shared/peers/peers-up.sh up
#   bash internal/bench/dav_vs_apache.sh [ROUNDS=6] [BENCH=regexp]
set -e
HTTPS_PORT=${HTTPS_PORT:-17443}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/internal/bench/schulhof_server.sh"
W=${W:-/tmp/davbench}; mkdir -p $W; cd $W
BIN=${BIN:-/tmp/imapbench/schulhof}
ROUNDS=${1:-6}; BENCH=${2:-'PutSmallDistinct$|PutSmallDistinctClients$|PropfindFile$'}; N=${N:-300x}
(cd "$REPO" && go test -c -o $W/dav.test ./davd)
schulhof_config
sed -i "s|^https = \"\"|https = \"127.0.0.1:$HTTPS_PORT\"|" "$W/cfg.toml"
serve_schulhof
for i in $(seq 100); do ss -Hltn "sport = :$HTTPS_PORT" | grep -q . && break; sleep 0.2; done
echo 'Erst!Passw0rt1' | $BIN --config "$W/cfg.toml" user add --first Bench --last n01 --role teacher --password-stdin >/dev/null
bench_password bench.n01
for r in $(seq "$ROUNDS"); do
  echo -n "schulhof round $r: "
  (cd "$REPO/davd" && DAV_BENCH_URL=https://127.0.0.1:$HTTPS_PORT/dav/home/ DAV_BENCH_USER=bench.n01 DAV_BENCH_PASS="$BENCH_PW" \
    $W/dav.test -test.run '^$' -test.bench "$BENCH" -test.benchtime $N | grep Bench)
  echo -n "apache   round $r: "
  (cd "$REPO/davd" && DAV_BENCH_URL=https://127.0.0.1:10443/dav/ DAV_BENCH_USER=testuser DAV_BENCH_PASS=pass \
    $W/dav.test -test.run '^$' -test.bench "$BENCH" -test.benchtime $N | grep Bench)
done
echo "schulhof RSS: $(ps -o rss= -p $SRV) KiB"
