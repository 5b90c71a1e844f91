#!/bin/bash
# The large-mailbox table, Schulhof vs Dovecot in one run: a fresh
# `schulhof serve` whose INBOX of bench.n01 is filled with N generated
# messages through the store (`schulhof bench fill`), restarted so the
# first round is the first access of the process; Dovecot's testuser99 gets
# the same messages as a maildir (`schulhof bench maildir`, indexed on the
# first SELECT). Then `schulhof bench imap-commands` times each command,
# first and warm, and prints the ratios (Schulhof / Dovecot).
#
#   go build -o /tmp/imapbench/schulhof ./cmd/schulhof
#   bash /work/shared/peers/peers-up.sh up
#   bash internal/bench/imap_large_vs_dovecot.sh [N=100000] [ROUNDS=6]
set -e
. "$(cd "$(dirname "$0")" && pwd)/schulhof_server.sh"
W=${W:-/tmp/imapbench}; mkdir -p $W; cd $W
BIN=${BIN:-/tmp/imapbench/schulhof}
N=${1:-100000}; ROUNDS=${2:-6}
DUSER=${DUSER:-testuser99}
start_schulhof 1
t0=$(date +%s.%N)
$BIN --config "$W/cfg.toml" bench fill --accounts bench.n01 --messages $N
echo "schulhof fill: $(echo "$(date +%s.%N) - $t0" | bc) s"
stop_schulhof
serve_schulhof
rm -rf /tmp/harness/mail/$DUSER
t0=$(date +%s.%N)
$BIN bench maildir --dir /tmp/harness/mail/$DUSER/Maildir --to $DUSER@school.test --messages $N --owner mail
chown -R mail:mail /tmp/harness/mail/$DUSER
echo "dovecot maildir: $(echo "$(date +%s.%N) - $t0" | bc) s"
echo "store: $(du -sh $W/data | cut -f1)  maildir: $(du -sh /tmp/harness/mail/$DUSER | cut -f1)"
# The tables start settled: the fill's and the maildir's dirty pages are
# on disk, so no first command runs beside their writeback.
sync
# Twice: with go-imap's client (what a Go client waits for; on FETCH 1:*
# its parsing is most of the time, for both servers) and with a client
# that only reads lines (the servers' own share).
# Our server restarts before each table, so both first columns are a
# first access of the process (Dovecot's only for the first table).
for client in go-imap lines; do
  echo "client: $client"
  [ $client = lines ] && { stop_schulhof; serve_schulhof; }
  $BIN bench imap-commands --client $client --rounds $ROUNDS --addr 127.0.0.1:$IMAP_PORT --user bench.n01 --password "$BENCH_PW" \
    --vs-addr 127.0.0.1:10143 --vs-user $DUSER --vs-password pass
done
echo "schulhof RSS: $(ps -o rss= -p $SRV) KiB"
