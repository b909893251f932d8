#!/usr/bin/env bash
# Installs what `make bench-sip` needs beyond Go on a Debian machine: sipp
# (package sip-tester) as the load generator, and Kamailio with its SQLite
# and PostgreSQL modules as the anchors ringgate's SIP adapter is measured
# against (a stateless rejector, and a rejector that writes one row per call
# through sqlops). PostgreSQL itself comes from scripts/install-deps.sh. Not
# part of `make test` or CI: benchmarks are not tests.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need+=(kamailio)
for m in sqlite postgres; do
  dpkg -s "kamailio-$m-modules" >/dev/null 2>&1 || need+=("kamailio-$m-modules")
done
if [ ${#need[@]} -gt 0 ]; then
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  fi
fi
# The package enables a systemd unit; the benchmark runs its own Kamailio in
# the foreground and never uses the system one.
sipp -v 2>&1 | grep -m1 SIPp || true
/usr/sbin/kamailio -v | head -1
