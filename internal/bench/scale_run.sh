#!/bin/bash
# The whole-school run: a fresh `schulhof serve` with ACCOUNTS pupils
# (`schulhof import users`, 27 classes) and MESSAGES generated messages
# spread evenly over their INBOXes (`schulhof bench fill --all-accounts`,
# through the store, not SMTP), restarted, then the IMAP mix (10 clients
# as 20 of the pupils) and SMTP delivery (10 connections from those 20 to
# 200 others, so the load does not grow the INBOXes the mix reads),
# with the store's size on disk and the server's RSS. Run it once with a
# small school for the empty-store baseline and once at full size:
#
#   go build -o /tmp/imapbench/schulhof ./cmd/schulhof
#   W=/tmp/scale-empty bash internal/bench/scale_run.sh 300 3000
#   W=/tmp/scale bash internal/bench/scale_run.sh 30000 3000000
#
# LOADS_ONLY=1 reruns only the loads on the store a previous run left in $W.
# scale_compare.sh serves a small and a large store of two runs in turn.
set -e
# Ports of their own, so a scale run and a side-by-side run can overlap.
SMTP_PORT=${SMTP_PORT:-18587}; IMAP_PORT=${IMAP_PORT:-18143}
. "$(cd "$(dirname "$0")" && pwd)/schulhof_server.sh"
W=${W:-/tmp/scale}; mkdir -p $W; cd $W
BIN=${BIN:-/tmp/imapbench/schulhof}
ACCOUNTS=${1:-30000}; MESSAGES=${2:-3000000}; SECS=${SECS:-30}
# RSS split: the heap (anonymous) and bbolt's mapped file pages (page
# cache, reclaimable).
rss() { grep -E "VmRSS|RssAnon|RssFile" /proc/$SRV/status | tr -s ' \t\n' ' '; }
if [ -z "$LOADS_ONLY" ]; then
schulhof_config '[limits.student]
messages_per_hour = 0
recipients_per_message = 0'
serve_schulhof 900
t0=$(date +%s)
# Import in parts below the admin socket's 1 MiB request bound.
for part in $(seq 0 10000 $((ACCOUNTS - 1))); do
  { echo "Vorname;Nachname;Klasse;Rolle"
    for i in $(seq $part $((part + 9999 < ACCOUNTS - 1 ? part + 9999 : ACCOUNTS - 1))); do
      echo "Kind;N$(printf %05d $i);$((5 + i % 9))$(printf "\\x$(printf %x $((97 + i % 3)))");Schüler"
    done; } > "$W/import-$part.csv"
  $BIN --config "$W/cfg.toml" import users "$W/import-$part.csv" --passwords "$W/pw-$part.csv" | head -1
done
echo "import: $(( $(date +%s) - t0 )) s"
t0=$(date +%s)
$BIN --config "$W/cfg.toml" bench fill --all-accounts --messages $MESSAGES --min-size 1024 --max-size 4096
echo "fill: $(( $(date +%s) - t0 )) s"
# 20 pupils spread over the school get a usable password.
: > "$W/users.txt"
for k in $(seq 0 19); do
  i=$(( k * ACCOUNTS / 20 ))
  u=$(grep -o "kind\.n$(printf %05d $i)[^;,]*" "$W"/pw-*.csv | head -1 | cut -d: -f2)
  bench_password "$u"
done
stop_schulhof
fi
t0=$(date +%s)
serve_schulhof 900
echo "server start: $(( $(date +%s) - t0 )) s"
# bbolt's open: fast after a clean stop, a walk of every page after a crash.
grep -E 'msg="store opened"|crash recovery' "$W/serve.log" | tail -1
echo "store on disk: $(du -sh $W/data | cut -f1) (bbolt $(du -h $W/data/schulhof.db | cut -f1)); RSS after start: $(rss)"
$BIN bench imap --addr 127.0.0.1:$IMAP_PORT --users-file "$W/users.txt" --clients 10 --duration ${SECS}s --prepare 0
$BIN bench smtp --addr 127.0.0.1:$SMTP_PORT --users-file "$W/users.txt" --conns 10 --duration ${SECS}s --size 10240 --rcpt "$(rcpts "$W" 0)"
echo "RSS after the loads: $(rss)"
