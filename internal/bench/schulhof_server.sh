# Sourced by the side-by-side scripts (smtp_vs_postfix.sh,
# imap_vs_dovecot.sh): start_schulhof N [TOML] starts a fresh `schulhof
# serve` from $BIN in $W/data (SMTP on 127.0.0.1:17587, IMAP on
# 127.0.0.1:17143, nothing else; TOML is appended to the config), stops it
# when the script exits, and creates N accounts bench.n01.. with a usable
# password, listed in $W/users.txt as "user password address".
start_schulhof() {
  local n=$1 extra=${2:-}
  rm -rf "$W/data"; mkdir -p "$W/data"
  cat > "$W/cfg.toml" <<EOT
domain = "schule.test"
data_dir = "$W/data"
[listen]
submission = "127.0.0.1:17587"
submissions = ""
imap = "127.0.0.1:17143"
imaps = ""
https = ""
[metrics]
listen = "127.0.0.1:0"
$extra
EOT
  $BIN --config "$W/cfg.toml" serve > "$W/serve.log" 2>&1 &
  SRV=$!
  trap "kill $SRV" EXIT
  for i in $(seq 50); do [ -S "$W/data/admin.sock" ] && break; sleep 0.2; done
  : > "$W/users.txt"
  for i in $(seq 1 "$n"); do
    local u; u=$(printf "n%02d" "$i")
    echo 'Erst!Passw0rt1' | $BIN --config "$W/cfg.toml" user add --first Bench --last $u --password-stdin >/dev/null
    echo 'Lastt3st!Schulhof' | $BIN --config "$W/cfg.toml" user passwd bench.$u --password-stdin >/dev/null
    echo "bench.$u Lastt3st!Schulhof bench.$u@schule.test" >> "$W/users.txt"
  done
}
