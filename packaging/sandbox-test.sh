#!/usr/bin/env bash
# The package under its real systemd unit and sandbox, on a machine where
# systemd is not PID 1 (like CI): boots this machine's own OS in a
# systemd-nspawn container over a throw-away overlay of /, installs the
# .deb there, starts schulhof.service (standard ports through
# CAP_NET_BIND_SERVICE, seccomp filter, ProtectSystem=strict, ...) and
# uses it: CLI over admin.sock, mail over 587 and 465, IMAPS, a WebDAV
# upload, the online exposure score. Nothing of the host changes.
# Needs root, systemd-container, swaks, curl, and / on one file system.
#   bash packaging/sandbox-test.sh            (not part of .ci/run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "sandbox-test: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root"
command -v systemd-nspawn >/dev/null || fail "systemd-nspawn missing (apt-get install systemd-container)"

tmp=$(mktemp -d /tmp/schulhof-sandbox.XXXXXX)
box=$tmp/ovl/root
cleanup() {
  mountpoint -q "$box" && umount "$box"
  mountpoint -q "$tmp/ovl" && umount "$tmp/ovl"
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/ovl" "$tmp/share"
mount -t tmpfs -o size=2g tmpfs "$tmp/ovl"
mkdir -p "$tmp/ovl/upper" "$tmp/ovl/work" "$box"
mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/ovl/upper,workdir=$tmp/ovl/work" "$box"
systemd-id128 new > "$box/etc/machine-id" # journald refuses the host's id
mkdir -p "$box/pkgtest"

bash "$root/packaging/build-deb.sh" 0.0.0~sandbox "$tmp/share" >/dev/null
cat > "$tmp/share/inner.sh" <<'INNER'
#!/bin/bash
set -euo pipefail
exec >/pkgtest/result.txt 2>&1
fail() { echo "FAIL: $*"; journalctl -u schulhof --no-pager | tail -20; exit 1; }
rm -f /usr/sbin/policy-rc.d # a build image's "start no services" (overlay only): a real machine has none
dpkg -i /pkgtest/schulhof_*.deb >/dev/null
sed -i 's/^domain = .*/domain = "box.schule.test"/' /etc/schulhof/schulhof.toml
systemctl enable --now schulhof 2>/dev/null
for _ in $(seq 150); do journalctl -u schulhof --no-pager | grep -q "is running" && break; sleep 0.2; done
systemctl is-active -q schulhof || fail "schulhof.service is not active"
pid=$(systemctl show -p MainPID --value schulhof)
st=/proc/$pid/status
[ "$(awk '/^Uid:/ { print $2 }' $st)" = "$(id -u schulhof)" ] || fail "not running as schulhof"
grep -q '^CapEff:[[:space:]]*0000000000000400$' $st || fail "capabilities: $(grep CapEff $st) (want only CAP_NET_BIND_SERVICE)"
grep -q '^Seccomp:[[:space:]]*2$' $st || fail "no seccomp filter"
grep -q '^NoNewPrivs:[[:space:]]*1$' $st || fail "NoNewPrivs not set"
for p in 587 465 143 993 443; do
  ss -ltnpH "sport = :$p" | grep -q schulhof || fail "nothing of schulhof listens on :$p"
done
[ "$(stat -c %U /var/lib/schulhof/tls/cert.pem)" = schulhof ] || fail "no certificate written into /var/lib/schulhof/tls"
[ -S /var/lib/schulhof/admin.sock ] || fail "no admin.sock"
pw='Pausenhof-Tafel-2024'
for n in Anna Ben; do
  schulhof user add --first $n --last Box >/dev/null # packaged config, over admin.sock
  printf %s "$pw" | schulhof user passwd "${n,,}.box" --password-stdin >/dev/null
done
sw=(swaks --server 127.0.0.1 --auth PLAIN --auth-user anna.box --auth-password "$pw" --from anna.box@box.schule.test --to ben.box@box.schule.test)
"${sw[@]}" --port 587 --tls --header "Subject: box-587" >/dev/null || fail "swaks on 587 (STARTTLS)"
"${sw[@]}" --port 465 --tls-on-connect --header "Subject: box-465" >/dev/null || fail "swaks on 465 (TLS)"
curl -sSk --user "ben.box:$pw" "imaps://127.0.0.1:993/INBOX;MAILINDEX=2" | grep -q "Subject: box-465" || fail "mail not in ben.box's INBOX over IMAPS"
head -c 3000000 /dev/urandom > /tmp/big.bin
[ "$(curl -sSk -o /dev/null -w '%{http_code}' --user "ben.box:$pw" -T /tmp/big.bin https://127.0.0.1/dav/home/big.bin)" = 201 ] || fail "WebDAV PUT"
curl -sSk --user "ben.box:$pw" https://127.0.0.1/dav/home/big.bin | cmp -s - /tmp/big.bin || fail "WebDAV GET differs"
[ -z "$(find /var/lib/schulhof -not -user schulhof)" ] || fail "files not owned by schulhof: $(find /var/lib/schulhof -not -user schulhof)"
systemd-analyze security --no-pager schulhof.service | tail -1
# With backup, doctor and certificate reload (issue 10, other branches):
# the backup lands in the packaged dir, nowhere else is writable, reload
# keeps the process, doctor runs its store checks inside the server.
if schulhof backup --help >/dev/null 2>&1; then
  grep -q '^dir = "/var/backups/schulhof"' /etc/schulhof/schulhof.toml || fail "packaged [backup] dir not set"
  schulhof backup --to /var/backups/schulhof >/dev/null || fail "backup into /var/backups/schulhof"
  schulhof backup verify /var/backups/schulhof >/dev/null || fail "backup verify"
  install -d -o schulhof -g schulhof /srv/elsewhere
  ! schulhof backup --to /srv/elsewhere >/dev/null 2>&1 || fail "the server wrote outside its ReadWritePaths"
  systemctl reload schulhof
  for _ in $(seq 50); do journalctl -u schulhof --no-pager | grep -q 'certificate loaded.*why=signal' && break; sleep 0.1; done
  journalctl -u schulhof --no-pager | grep -q 'certificate loaded.*why=signal' || fail "reload did not reload the certificate"
  [ "$(systemctl show -p MainPID --value schulhof)" = "$pid" ] || fail "reload restarted the server"
  schulhof doctor | grep -q '0 FEHLER' || fail "doctor: $(schulhof doctor)"
  echo "backup, reload and doctor work in the sandbox"
fi
dpkg -i /pkgtest/schulhof_*.deb >/dev/null # an upgrade restarts a running server
systemctl is-active -q schulhof || fail "not active after the upgrade"
[ "$(systemctl show -p MainPID --value schulhof)" != "$pid" ] || fail "the upgrade did not restart the server"
systemctl stop schulhof
[ "$(systemctl show -p Result --value schulhof)" = success ] || fail "stop: $(systemctl show -p Result --value schulhof)"
echo PASS
INNER
chmod 0755 "$tmp/share/inner.sh"
cat > "$box/etc/systemd/system/pkgtest.service" <<'UNIT'
[Unit]
Description=schulhof package sandbox test
After=basic.target
[Service]
Type=oneshot
ExecStart=/pkgtest/inner.sh
ExecStopPost=/bin/systemctl --no-block poweroff
UNIT
# Only the test unit and what it needs start (no host services); own
# loopback network, so the standard ports are free.
timeout 180 systemd-nspawn -q -D "$box" --register=no --keep-unit --link-journal=no --private-network \
  --machine=schulhof-sandbox --console=pipe --bind="$tmp/share:/pkgtest" -b -- systemd.unit=pkgtest.service \
  >"$tmp/boot.log" 2>&1 || true
[ -e "$tmp/share/result.txt" ] || { cat "$tmp/boot.log" >&2; fail "the container did not run the test"; }
cat "$tmp/share/result.txt"
grep -qx PASS "$tmp/share/result.txt" || fail "see above"
echo "sandbox-test: ok: schulhof.service works under its sandbox"
