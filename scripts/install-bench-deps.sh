#!/usr/bin/env bash
# Installs what `make bench-sip` needs beyond Go on a Debian machine: sipp
# (package sip-tester) as the load generator and Kamailio as the stateless
# rejector ringgate's SIP adapter is measured against. Not part of `make
# test` or CI: benchmarks are not tests.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need+=(kamailio)
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
