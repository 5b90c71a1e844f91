#!/usr/bin/env bash
# The Debian package from the outside, as root on a fresh Debian 12 machine
# (called by .ci/run): build the .deb, dpkg -i, check the installed unit,
# run the INSTALLED /usr/bin/schulhof as the schulhof user against a
# temporary config (loopback, free ports) and data directory, create two
# accounts with the installed CLI, send one mail with swaks (AUTH on
# submission, STARTTLS), read it back over IMAPS with curl, stop the server,
# dpkg --remove (data kept), dpkg --purge, and check that the user,
# /var/lib/schulhof, /var/backups/schulhof and /etc/schulhof are gone.
# Needs dpkg-deb, adduser, swaks, curl, procps and systemd (for
# systemd-analyze; it need not be PID 1). Runs twice in a row.
#   bash packaging/ci-install-test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "ci-install-test: $*"; }
fail() { echo "ci-install-test: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (it installs and purges the package)"
for t in dpkg-deb swaks curl systemd-analyze setpriv runuser; do
  command -v "$t" >/dev/null || fail "$t is missing"
done

# A leftover of an interrupted run is purged first; a real installation
# (a database this test did not make) is never touched.
marker=/var/lib/schulhof/.ci-install-test
if dpkg-query -W -f='${Status}' schulhof 2>/dev/null | grep -q 'installed\|config-files'; then
  if [ -e /var/lib/schulhof/schulhof.db ] && [ ! -e "$marker" ]; then
    fail "schulhof is installed here with data in /var/lib/schulhof; this test purges the package, so it refuses"
  fi
  ! pgrep -u schulhof >/dev/null || fail "processes of the user schulhof are running; stop them first"
  say "purging a leftover installation of an earlier run"
  dpkg --purge schulhof >/dev/null
fi

tmp=$(mktemp -d /tmp/schulhof-ci-install.XXXXXX)
server=
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

say "building the package"
start=$(date +%s)
deb=$(bash "$root/packaging/build-deb.sh" 0.0.0~ci "$tmp")
say "built $(basename "$deb") in $(($(date +%s) - start))s"

dpkg -i "$deb" >/dev/null
[ -x /usr/bin/schulhof ] || fail "/usr/bin/schulhof not installed"
getent passwd schulhof >/dev/null || fail "postinst did not create the user schulhof"
for d in /var/lib/schulhof /var/backups/schulhof; do
  [ "$(stat -c '%U:%G %a' "$d")" = "schulhof:schulhof 700" ] ||
    fail "$d is $(stat -c '%U:%G %a' "$d"), want schulhof:schulhof 700"
done
grep -qx /etc/schulhof/schulhof.toml /var/lib/dpkg/info/schulhof.conffiles || fail "schulhof.toml is no conffile"
man -w schulhof >/dev/null 2>&1 || [ -e /usr/share/man/man8/schulhof.8.gz ] || fail "no man page"

unit=/lib/systemd/system/schulhof.service
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
exposure=$(systemd-analyze security --offline=true "$unit" | sed -n 's/.*Overall exposure level for schulhof.service: \([0-9.]*\).*/\1/p')
say "unit exposure $exposure (systemd-analyze security --offline=true $unit)"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e < 2.0) }' || fail "exposure '$exposure' is not under 2.0"

# The installed binary must read the installed config: its data_dir is
# the package's. (--data would override it; here the file decides.)
touch "$marker"
runuser -u schulhof -- /usr/bin/schulhof user list >/dev/null ||
  fail "the installed CLI cannot open /var/lib/schulhof as schulhof with the packaged config"
[ -e /var/lib/schulhof/schulhof.db ] || fail "the CLI without --config did not use /var/lib/schulhof"
# Root without a running server must not write root-owned files there.
if /usr/bin/schulhof user list >/dev/null 2>"$tmp/root-local"; then
  fail "root opened schulhof's /var/lib/schulhof without a server"
fi
grep -q "sudo -u schulhof" "$tmp/root-local" || fail "root's refusal does not say what to do: $(cat "$tmp/root-local")"

# The server, as the schulhof user without any privilege, on a temporary
# config: loopback, port 0 (the kernel picks free ports; the server prints them).
chmod 0755 "$tmp"
install -d -m 0700 -o schulhof -g schulhof "$tmp/data"
cat > "$tmp/schulhof.toml" <<TOML
domain = "ci.schule.test"
data_dir = "$tmp/data"
[listen]
submission  = "127.0.0.1:0"
submissions = "127.0.0.1:0"
imap        = "127.0.0.1:0"
imaps       = "127.0.0.1:0"
https       = "127.0.0.1:0"
[metrics]
listen      = "127.0.0.1:0"
TOML
chmod 0644 "$tmp/schulhof.toml"
as_schulhof=(setpriv --reuid=schulhof --regid=schulhof --init-groups --inh-caps=-all --no-new-privs --)
cli() { "${as_schulhof[@]}" /usr/bin/schulhof --config "$tmp/schulhof.toml" "$@"; }

# Started directly (not through a function, which would fork a subshell):
# $! is the server itself.
"${as_schulhof[@]}" /usr/bin/schulhof --config "$tmp/schulhof.toml" serve >"$tmp/out" 2>"$tmp/err" &
server=$!
for _ in $(seq 300); do # up to 30 s for the first start (certificate, first admin)
  grep -q "is running" "$tmp/out" && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/out" "$tmp/err" >&2; fail "the server exited at start"; }
  sleep 0.1
done
grep -q "is running" "$tmp/out" || { cat "$tmp/out" "$tmp/err" >&2; fail "the server did not start within 30 s"; }
port() { sed -n "s/^$1 *127\.0\.0\.1:\([0-9]*\)$/\1/p" "$tmp/out"; }
submission=$(port submission) imaps=$(port imaps)
[ -n "$submission" ] && [ -n "$imaps" ] || { cat "$tmp/out" >&2; fail "no submission/imaps port in the start-up lines"; }
[ "$(stat -c %U "$tmp/data/schulhof.db")" = schulhof ] || fail "schulhof.db not owned by schulhof"
[ -s "$tmp/data/tls/cert.pem" ] || fail "no generated certificate in the data dir's tls/"
[ -S "$tmp/data/admin.sock" ] || fail "no admin.sock"
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$server/status")" = "$(id -u schulhof)" ] || fail "the server does not run as schulhof"
grep -q '^CapEff:[[:space:]]*0*$' "/proc/$server/status" || fail "the server has capabilities: $(grep CapEff "/proc/$server/status")"
say "server up as schulhof without capabilities: submission :$submission, imaps :$imaps"

# Accounts through the installed CLI and the admin socket; passwords set
# so that the one-time password need not be changed first.
pw='Pausenhof-Tafel-2024'
cli user add --first Anna --last Probe --role student >/dev/null
cli user add --first Ben --last Probe --role student >/dev/null
printf '%s' "$pw" | cli user passwd anna.probe --password-stdin >/dev/null
printf '%s' "$pw" | cli user passwd ben.probe --password-stdin >/dev/null
cli user list | grep -q ben.probe || fail "ben.probe not in 'user list'"

token="ci-install-$$-$RANDOM"
swaks --server 127.0.0.1 --port "$submission" --tls --helo ci.test \
  --auth PLAIN --auth-user anna.probe --auth-password "$pw" \
  --from anna.probe@ci.schule.test --to ben.probe@ci.schule.test \
  --header "Subject: $token" --body "Installiert und zugestellt." >"$tmp/swaks" 2>&1 ||
  { cat "$tmp/swaks" >&2; fail "swaks could not send"; }

got=$(curl -sS --insecure --max-time 20 --user "ben.probe:$pw" "imaps://127.0.0.1:$imaps/INBOX;MAILINDEX=1") ||
  fail "curl could not fetch INBOX message 1 over IMAPS"
grep -q "Subject: $token" <<<"$got" || { echo "$got" >&2; fail "the message did not arrive in ben.probe's INBOX"; }
grep -q "Installiert und zugestellt." <<<"$got" || fail "the body did not arrive"
say "mail sent over submission (AUTH PLAIN, STARTTLS) and read back over IMAPS"

kill -TERM "$server"
code=0
wait "$server" || code=$?
server=
[ "$code" = 0 ] || { cat "$tmp/err" >&2; fail "the server exited with $code on SIGTERM"; }
[ ! -e "$tmp/data/admin.sock" ] || fail "admin.sock left behind after stop"

# remove keeps the data, the user and the config; purge takes them.
dpkg --remove schulhof >/dev/null
[ ! -e /usr/bin/schulhof ] || fail "remove left /usr/bin/schulhof"
[ -e /var/lib/schulhof/schulhof.db ] || fail "remove deleted the data in /var/lib/schulhof"
getent passwd schulhof >/dev/null || fail "remove deleted the user schulhof"
[ -e /etc/schulhof/schulhof.toml ] || fail "remove deleted the config"
dpkg --purge schulhof >/dev/null
! getent passwd schulhof >/dev/null || fail "purge left the user schulhof"
! getent group schulhof >/dev/null || fail "purge left the group schulhof"
[ ! -e /var/lib/schulhof ] || fail "purge left /var/lib/schulhof"
[ ! -e /var/backups/schulhof ] || fail "purge left /var/backups/schulhof"
[ ! -e /etc/schulhof ] || fail "purge left /etc/schulhof"
[ ! -e /usr/bin/schulhof ] || fail "purge left /usr/bin/schulhof"
say "ok: installed, served, mailed, purged ($(($(date +%s) - start))s)"
