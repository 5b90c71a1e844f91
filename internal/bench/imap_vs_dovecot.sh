#!/bin/bash
# IMAP, Schulhof vs Dovecot, side by side: a fresh `schulhof serve` (its own
# process and data dir) with 10 accounts, and the Dovecot peer of
# ../shared/peers (127.0.0.1:10143, testuser1..10 / pass), each loaded in
# turn by `schulhof bench imap` (10 clients). Extra arguments go to both
# runs, e.g. --mix store=1 --prepare 0 for STORE alone. Prints the STORE
# and total lines of each round.
#
#   go build -o /tmp/imapbench/schulhof ./cmd/schulhof
#   bash internal/bench/imap_vs_dovecot.sh ROUNDS SECONDS [bench imap args]
set -e
. "$(cd "$(dirname "$0")" && pwd)/schulhof_server.sh"
W=${W:-/tmp/imapbench}; mkdir -p $W; cd $W
BIN=${BIN:-/tmp/imapbench/schulhof}
ROUNDS=${1:-3}; SECS=${2:-15}; shift 2 || true
start_schulhof 10
for r in $(seq $ROUNDS); do
  echo "round $r schulhof"
  $BIN bench imap --addr 127.0.0.1:$IMAP_PORT --users-file users.txt --clients 10 --duration ${SECS}s "$@" | grep -E " store|total"
  echo "round $r dovecot"
  $BIN bench imap --addr 127.0.0.1:10143 --domain school.test --password pass --clients 10 --duration ${SECS}s "$@" | grep -E " store|total"
done
