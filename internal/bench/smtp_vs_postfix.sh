#!/bin/bash
# SMTP submission, Schulhof vs Postfix, side by side: a fresh `schulhof
# serve` (its own process, own data dir, MAIL-MASS off for the load) with
# 20 accounts, and the Postfix peer of ../shared/peers (127.0.0.1:10587,
# testuser1..20 / pass), each loaded in turn by `schulhof bench smtp`
# (AUTH, 20 connections, 10 KB messages). Prints per round: messages/s
# accepted, errors, p50 ms.
#
#   go build -o /tmp/smtpbench/schulhof ./cmd/schulhof
#   bash internal/bench/smtp_vs_postfix.sh ROUNDS SECONDS
set -e
W=${W:-/tmp/smtpbench}; mkdir -p $W; cd $W
BIN=${BIN:-/tmp/smtpbench/schulhof}
ROUNDS=${1:-3}; SECS=${2:-10}
rm -rf data; mkdir data
cat > cfg.toml <<EOT
domain = "schule.test"
data_dir = "$W/data"
[listen]
submission = "127.0.0.1:17587"
submissions = ""
imap = "127.0.0.1:17143"
imaps = ""
https = ""
[limits.student]
recipients_per_message = 0
messages_per_hour = 0
group_addresses = "member"
EOT
$BIN --config cfg.toml serve > serve.log 2>&1 &
SRV=$!
trap "kill $SRV" EXIT
for i in $(seq 50); do [ -S data/admin.sock ] && break; sleep 0.2; done
: > users.txt
for i in $(seq 1 20); do
  n=$(printf "n%02d" $i)
  echo 'Erst!Passw0rt1' | $BIN --config cfg.toml user add --first Bench --last $n --password-stdin >/dev/null
  echo 'Lastt3st!Schulhof' | $BIN --config cfg.toml user passwd bench.$n --password-stdin >/dev/null
  echo "bench.$n Lastt3st!Schulhof bench.$n@schule.test" >> users.txt
done
for r in $(seq $ROUNDS); do
  s=$($BIN --config cfg.toml bench smtp --addr 127.0.0.1:17587 --users-file users.txt --conns 20 --duration ${SECS}s --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["accepted_per_sec"]), d.get("errors",""), d["total"]["p50_ms"])')
  p=$($BIN --config cfg.toml bench smtp --addr 127.0.0.1:10587 --domain school.test --password pass --users 1..20 --conns 20 --duration ${SECS}s --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["accepted_per_sec"]), d.get("errors",""), d["total"]["p50_ms"])')
  echo "round $r: schulhof $s | postfix $p"
done
