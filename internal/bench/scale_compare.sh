#!/bin/bash
# Small and large school side by side: the stores two scale_run.sh runs
# left in $SMALL and $LARGE are served in turn (same binary, same loads,
# ROUNDS rounds interleaved), each round the IMAP mix and SMTP delivery,
# with the store's size and the server's RSS. With a profiling build
# (go build -tags pprof) PROFILE=1 also saves per store and round a CPU
# profile of the IMAP mix, the block profile and bbolt's counters before
# and after the loads in $OUT. The SMTP load of each round goes to 200
# other pupils of the school (rcpts in schulhof_server.sh), not to the 20
# whose INBOXes the IMAP mix reads, so a round's deliveries do not grow what
# the next round searches. Then login and IDLE push latency (bench
# fanout). DROP_CACHES=1 starts every store with a cold page cache.
#
#   go build -tags pprof -o /tmp/imapbench/schulhof-pprof ./cmd/schulhof
#   W=/tmp/scale-empty bash internal/bench/scale_run.sh 300 3000
#   BIN=/tmp/imapbench/schulhof-pprof PROFILE=1 SMALL=/tmp/scale-empty LARGE=/tmp/scale \
#     bash internal/bench/scale_compare.sh
set -e
. "$(cd "$(dirname "$0")" && pwd)/schulhof_server.sh"
BIN=${BIN:-/tmp/imapbench/schulhof}; SECS=${SECS:-20}; ROUNDS=${ROUNDS:-3}
OUT=${OUT:-/tmp/scale-compare}; PPROF=${PPROF:-127.0.0.1:18600}
mkdir -p "$OUT"
rss() { grep -E "VmRSS|RssAnon|RssFile" /proc/$SRV/status | tr -s ' \t\n' ' '; }
for r in $(seq "$ROUNDS"); do
  for name in small large; do
    W=${SMALL}; [ $name = large ] && W=${LARGE}
    IMAP_PORT=$(grep -o '^imap = "127.0.0.1:[0-9]*' "$W/cfg.toml" | cut -d: -f2)
    SMTP_PORT=$(grep -o '^submission = "127.0.0.1:[0-9]*' "$W/cfg.toml" | cut -d: -f2)
    export SCHULHOF_PPROF=$PPROF
    # DROP_CACHES=1 (root): each store starts with a cold page cache, as
    # on a school server with less memory than the store.
    [ -n "${DROP_CACHES:-}" ] && { sync; echo 3 > /proc/sys/vm/drop_caches; }
    serve_schulhof 900
    p=$OUT/$name-$r
    echo "== $name round $r: store $(du -sh $W/data | cut -f1), RSS after start: $(rss)"
    grep -E "store opened|crash recovery" "$W/serve.log" | tail -1
    if [ -n "$PROFILE" ]; then
      curl -s "http://$PPROF/debug/store" > $p.store0.json
      curl -s -o $p.cpu.pprof "http://$PPROF/debug/pprof/profile?seconds=$SECS" &
      PROF=$!
    fi
    $BIN bench imap --addr 127.0.0.1:$IMAP_PORT --users-file "$W/users.txt" --clients 10 --duration ${SECS}s --prepare 0 > $p.imap.txt
    [ -n "$PROFILE" ] && { wait $PROF; curl -s "http://$PPROF/debug/store" > $p.store1.json; }
    $BIN bench smtp --addr 127.0.0.1:$SMTP_PORT --users-file "$W/users.txt" --conns 10 --duration ${SECS}s --size 10240 --rcpt "$(rcpts "$W" "$r")" > $p.smtp.txt
    if [ -n "$PROFILE" ]; then
      curl -s "http://$PPROF/debug/store" > $p.store2.json
      curl -s -o $p.block.pprof "http://$PPROF/debug/pprof/block"
    fi
    # Login and IDLE push: the first of the mix's users mails the other 19,
    # idle in INBOX, 50 times.
    $BIN bench fanout --addr 127.0.0.1:$IMAP_PORT --smtp-addr 127.0.0.1:$SMTP_PORT --users-file "$W/users.txt" --rounds 50 > $p.fanout.txt
    grep -E "^ +total|^commands" $p.imap.txt | head -1
    grep -E "^ +message" $p.smtp.txt
    grep -E "^ +(login|idle_exists)" $p.fanout.txt
    echo "RSS after the loads: $(rss)"
    stop_schulhof
  done
done
