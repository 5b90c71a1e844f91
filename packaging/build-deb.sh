#!/usr/bin/env bash
# Builds schulhof_<version>_<arch>.deb from this checkout with dpkg-deb:
# the binary, the systemd unit, the documented config and a system user.
#   bash packaging/build-deb.sh [VERSION] [OUTDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-0.1.0}
out=${2:-$root}
arch=$(go env GOARCH)
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
chmod 0755 "$pkg"

mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/schulhof" "$pkg/usr/share/doc/schulhof"
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$pkg/usr/bin/schulhof" ./cmd/schulhof)
install -m 0644 "$root/packaging/schulhof.service" "$pkg/lib/systemd/system/schulhof.service"
sed -e 's|^data_dir = .*|data_dir = "/var/lib/schulhof"|' "$root/packaging/schulhof.toml" > "$pkg/etc/schulhof/schulhof.toml"
chmod 0640 "$pkg/etc/schulhof/schulhof.toml"
install -m 0644 "$root/README.md" "$pkg/usr/share/doc/schulhof/README.md"

cat > "$pkg/DEBIAN/control" <<CTRL
Package: schulhof
Version: $version
Architecture: $arch
Maintainer: Schulhof developers <schulhof@localhost>
Section: mail
Priority: optional
Depends: adduser
Description: school communication server: mail, files, chat, usage rules
 Internal e-mail (SMTP submission, IMAP), WebDAV home and group folders,
 chat and the school's usage rules (Nutzungsordnung) enforced as code,
 in one binary with one embedded store.
CTRL
echo /etc/schulhof/schulhof.toml > "$pkg/DEBIAN/conffiles"
cat > "$pkg/DEBIAN/postinst" <<'POST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent passwd schulhof >/dev/null || adduser --system --group --home /var/lib/schulhof --no-create-home schulhof
  chgrp schulhof /etc/schulhof/schulhof.toml
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable schulhof.service >/dev/null
    echo "Schulhof installed. Start it with: systemctl start schulhof; the first admin's password is in: journalctl -u schulhof"
  fi
fi
POST
cat > "$pkg/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop schulhof.service || true
fi
PRERM
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm"
dpkg-deb --root-owner-group --build "$pkg" "$out/schulhof_${version}_${arch}.deb"
