#!/bin/bash
# SMTP submission, Schulhof vs Postfix, side by side: a fresh `schulhof
# serve` (its own process, own data dir, MAIL-MASS off for the load) with
# 20 accounts, and the Postfix peer of ../shared/peers (127.0.0.1:10587,
# testuser1..20 / pass), each loaded in turn by `schulhof bench smtp`
# (AUTH, 20 connections, 10 KB messages). Prints per round: messages/s
# accepted, errors, p50 ms. Each round starts settled (settle below).
#
#   go build -o /tmp/smtpbench/schulhof ./cmd/schulhof
#   bash internal/bench/smtp_vs_postfix.sh ROUNDS SECONDS
set -e
. "$(cd "$(dirname "$0")" && pwd)/schulhof_server.sh"
W=${W:-/tmp/smtpbench}; mkdir -p $W; cd $W
BIN=${BIN:-/tmp/smtpbench/schulhof}
ROUNDS=${1:-3}; SECS=${2:-10}
start_schulhof 20 "$MAIL_MASS_OFF"
# settle: Postfix hands what it accepted to Dovecot (LMTP) after its round
# has ended, so the next round waits until its queue is empty, and for the
# dirty pages of both to reach the disk: no round runs beside the last
# one's aftermath.
PF=${PF:-/tmp/harness/peers/postfix}
settle() {
  for i in $(seq 600); do
    postqueue -c "$PF" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
    sleep 0.2
  done
  sync
}
for r in $(seq $ROUNDS); do
  settle
  s=$($BIN --config cfg.toml bench smtp --addr 127.0.0.1:$SMTP_PORT --users-file users.txt --conns 20 --duration ${SECS}s --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["accepted_per_sec"]), d.get("errors",""), d["total"]["p50_ms"])')
  settle
  p=$($BIN --config cfg.toml bench smtp --addr 127.0.0.1:10587 --domain school.test --password pass --users 1..20 --conns 20 --duration ${SECS}s --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["accepted_per_sec"]), d.get("errors",""), d["total"]["p50_ms"])')
  echo "round $r: schulhof $s | postfix $p"
done
