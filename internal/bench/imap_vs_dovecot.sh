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
W=${W:-/tmp/imapbench}; mkdir -p $W; cd $W
BIN=${BIN:-/tmp/imapbench/schulhof}
ROUNDS=${1:-3}; SECS=${2:-15}; shift 2 || true
rm -rf data; mkdir data
cat > cfg.toml <<EOT
domain = "schule.test"
data_dir = "$W/data"
[listen]
submission = ""
submissions = ""
imap = "127.0.0.1:17143"
imaps = ""
https = ""
EOT
$BIN --config cfg.toml serve > serve.log 2>&1 &
SRV=$!
trap "kill $SRV" EXIT
for i in $(seq 50); do [ -S data/admin.sock ] && break; sleep 0.2; done
: > users.txt
for i in $(seq 1 10); do
  n=$(printf "n%02d" $i)
  echo 'Erst!Passw0rt1' | $BIN --config cfg.toml user add --first Bench --last $n --password-stdin >/dev/null
  echo 'Lastt3st!Schulhof' | $BIN --config cfg.toml user passwd bench.$n --password-stdin >/dev/null
  echo "bench.$n Lastt3st!Schulhof" >> users.txt
done
for r in $(seq $ROUNDS); do
  echo "round $r schulhof"
  $BIN bench imap --addr 127.0.0.1:17143 --users-file users.txt --clients 10 --duration ${SECS}s "$@" | grep -E " store|total"
  echo "round $r dovecot"
  $BIN bench imap --addr 127.0.0.1:10143 --domain school.test --password pass --clients 10 --duration ${SECS}s "$@" | grep -E " store|total"
done
