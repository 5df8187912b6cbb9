#!/usr/bin/env bash
# Unpack syslog-ng and its librdkafka module (kafka-c) from the Debian
# packages into a directory, without installing them: syslog-ng-core
# conflicts with rsyslog, which the other shipper test needs installed.
#
#   bash integration/shippers/install-syslog-ng.sh [DIR]
#
# DIR defaults to $SYNCWATCH_SYSLOG_NG_DIR, else /opt/syslog-ng-unpacked;
# the tests look in the same places. The libraries the packages need and
# this machine lacks (apt's own answer, checked with ldd afterwards) are
# unpacked there too. To run it by hand:
#
#   D=/opt/syslog-ng-unpacked
#   LD_LIBRARY_PATH=$D/usr/lib/syslog-ng:$D/usr/lib/x86_64-linux-gnu:$D/lib/x86_64-linux-gnu \
#     $D/usr/sbin/syslog-ng --module-path=$D/usr/lib/syslog-ng/3.38 -F -f my.conf ...
#
# Needs apt-get with current package lists (apt-get update) and, for the
# default DIR, write access to /opt. Idempotent: exits early when DIR
# already holds a syslog-ng whose libraries all resolve.
set -euo pipefail

dest="${1:-${SYNCWATCH_SYSLOG_NG_DIR:-/opt/syslog-ng-unpacked}}"
pkgs=(syslog-ng-core syslog-ng-mod-rdkafka)

# The unpacked tree's library directories, and its module directory.
libpath() {
  local d
  for d in "$dest"/usr/lib/syslog-ng "$dest"/usr/lib/*-linux-gnu "$dest"/lib/*-linux-gnu; do
    [ -d "$d" ] && printf '%s:' "$d"
  done
}
moddir() { ls -d "$dest"/usr/lib/syslog-ng/[0-9]* 2>/dev/null | head -1; }

# missing lists what the binary and its modules cannot resolve.
missing() {
  local lp m f
  lp="$(libpath)"
  m="$(moddir)"
  [ -x "$dest/usr/sbin/syslog-ng" ] && [ -n "$m" ] && [ -f "$m/libkafka.so" ] || { echo "syslog-ng or its kafka module"; return; }
  for f in "$dest/usr/sbin/syslog-ng" "$m"/*.so; do
    LD_LIBRARY_PATH="$lp" ldd "$f" 2>&1 | awk -v f="${f#"$dest"/}" '/not found/ { print f ": " $1 }'
  done
}

if [ -z "$(missing)" ]; then
  echo "syslog-ng already unpacked in $dest"
  exit 0
fi

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# What apt would install for the two packages (ignoring that it would
# remove rsyslog to do so), minus what this machine already has.
get=()
while read -r p; do
  installed "$p" || get+=("$p")
done < <(apt-get -s install --no-install-recommends "${pkgs[@]}" | awk '$1 == "Inst" { print $2 }')
for p in "${pkgs[@]}"; do
  [[ " ${get[*]} " == *" $p "* ]] || get+=("$p")
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt-get download runs as _apt where it can
echo "== apt-get download ${get[*]}"
(cd "$tmp" && apt-get download -q "${get[@]}")
mkdir -p "$dest"
for deb in "$tmp"/*.deb; do
  dpkg -x "$deb" "$dest"
done

still="$(missing)"
if [ -n "$still" ]; then
  echo "syslog-ng unpacked in $dest, but libraries are missing:" >&2
  echo "$still" >&2
  exit 1
fi
echo "syslog-ng unpacked in $dest: $(LD_LIBRARY_PATH="$(libpath)" "$dest/usr/sbin/syslog-ng" --version | head -1)"
