# Sourced by every bench script that runs its own Schulhof (smtp_vs_postfix.sh,
# imap_vs_dovecot.sh, imap_large_vs_dovecot.sh, metrics_overhead.sh,
# scale_run.sh): the one place that writes the config, starts and stops
# `schulhof serve` from $BIN and creates bench accounts. SMTP listens on
# 127.0.0.1:$SMTP_PORT (17587), IMAP on 127.0.0.1:$IMAP_PORT (17143),
# nothing else but a metrics port of its own; the data dir is $W/data.
SMTP_PORT=${SMTP_PORT:-17587}; IMAP_PORT=${IMAP_PORT:-17143}
# MAIL_MASS_OFF is the TOML of the SMTP loads: MAIL-MASS off for students
# (no recipient or hourly bound, group addresses open to members).
MAIL_MASS_OFF='[limits.student]
recipients_per_message = 0
messages_per_hour = 0
group_addresses = "member"'

# schulhof_config [TOML] writes a fresh $W/data and $W/cfg.toml (TOML is
# appended to the config; the metrics listener takes a free port).
schulhof_config() {
  local extra=${1:-} metrics='[metrics]
listen = "127.0.0.1:0"'
  # NO_METRICS=1: no [metrics] section (a binary from before metrics
  # rejects the key).
  [ -n "${NO_METRICS:-}" ] && metrics=
  rm -rf "$W/data"; mkdir -p "$W/data"
  cat > "$W/cfg.toml" <<EOT
domain = "schule.test"
data_dir = "$W/data"
[listen]
submission = "127.0.0.1:$SMTP_PORT"
submissions = ""
imap = "127.0.0.1:$IMAP_PORT"
imaps = ""
https = ""
$metrics
$extra
EOT
}

# serve_schulhof [TRIES] starts `schulhof serve` on $W/cfg.toml as $SRV
# (log appended to $W/serve.log), stops it when the script exits, and waits
# up to TRIES×0.2 s (default 100) until IMAP listens and the admin socket
# is there; a large store takes longer to open.
serve_schulhof() {
  $BIN --config "$W/cfg.toml" serve >> "$W/serve.log" 2>&1 &
  SRV=$!
  trap "kill $SRV" EXIT
  for i in $(seq "${1:-100}"); do
    [ -S "$W/data/admin.sock" ] && ss -Hltn "sport = :$IMAP_PORT" | grep -q . && return
    sleep 0.2
  done
  echo "server did not start (see $W/serve.log)" >&2; exit 1
}

# bench_password USER gives USER the load's password $BENCH_PW (the first
# one is a one-time password) and lists USER in $W/users.txt.
BENCH_PW='Lastt3st!Schulhof'
bench_password() {
  echo "$BENCH_PW" | $BIN --config "$W/cfg.toml" user passwd "$1" --password-stdin >/dev/null
  echo "$1 $BENCH_PW $1@schule.test" >> "$W/users.txt"
}

# stop_schulhof stops $SRV and waits for it.
stop_schulhof() {
  kill $SRV; wait $SRV 2>/dev/null || true; trap - EXIT
}

# start_schulhof N [TOML]: a fresh config and server (schulhof_config,
# serve_schulhof) with N accounts bench.n01.. with a usable password,
# listed in $W/users.txt as "user password address".
start_schulhof() {
  local n=$1
  schulhof_config "${2:-}"
  : > "$W/serve.log"
  serve_schulhof
  : > "$W/users.txt"
  for i in $(seq 1 "$n"); do
    local u; u=$(printf "n%02d" "$i")
    echo 'Erst!Passw0rt1' | $BIN --config "$W/cfg.toml" user add --first Bench --last $u --password-stdin >/dev/null
    bench_password bench.$u
  done
}

# rcpts W ROUND: 200 addresses spread over the school in $W (the E-Mail
# column of scale_run.sh's password lists), shifted per round, none of them
# in $W/users.txt (the IMAP mix's users): the SMTP loads of scale_run.sh
# and scale_compare.sh. A school needs more than 220 accounts for 200.
rcpts() {
  cut -d';' -f3,4 "$1"/pw-*.csv | grep '@' | grep -v -F -f <(sed 's/ .*/;/' "$1/users.txt") |
    awk -F';' -v r="$2" '{ a[NR] = $2 } END { step = int(NR / 200); if (step < 1) step = 1
      for (i = 0; i < 200 && i * step + r % step < NR; i++) printf "%s%s", (i ? "," : ""), a[i * step + r % step + 1] }'
}
