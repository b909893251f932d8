#!/usr/bin/env bash
# Installs what ringgate's tests need beyond Go on a Debian machine. Today
# that is nothing: SQLite is embedded (modernc.org/sqlite, pure Go). Peers
# that later tests talk to (sipp, chromium) are added here, so a fresh
# machine needs only this script.
set -euo pipefail
need=()
# (no system packages needed yet)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
go mod download
