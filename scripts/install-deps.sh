#!/usr/bin/env bash
# Installs what ringgate's tests need beyond Go on a Debian machine: a
# PostgreSQL server on 127.0.0.1:5432 with trust auth and a database "test"
# (the store/postgres and cluster tests; RINGGATE_TEST_POSTGRES_URL points
# them elsewhere), and sipp (package sip-tester: the far end of the SIP
# tests, which skip without it and fail when CI=true). SQLite is embedded (modernc.org/sqlite, pure Go). Peers
# that later tests talk to (sipp, chromium) are added here, so a fresh
# machine needs only this script.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
need=()
if [ -z "${RINGGATE_TEST_POSTGRES_URL:-}" ] && ! command -v pg_ctlcluster >/dev/null; then
  need+=(postgresql)
fi
if ! command -v sipp >/dev/null; then
  need+=(sip-tester)
fi
# Headless Chromium for the browser tests (internal/web, driven by chromedp):
# they skip without it, and fail when CI=true.
if ! command -v chromium >/dev/null; then
  need+=(chromium)
fi
# Deployment checks (scripts/check-deploy.sh): systemd-analyze verifies the
# unit in deploy/, promtool (Debian's prometheus package) the alert rules.
if ! command -v systemd-analyze >/dev/null; then
  need+=(systemd)
fi
if ! command -v promtool >/dev/null; then
  need+=(prometheus)
fi
# Node.js 20+ and npm for the TypeScript SDK's tests (sdk/js, `node --test`)
# and the providers' official JavaScript clients against the compatible
# APIs (compat/node: twilio, @vonage/verify2; internal/compat).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  need+=(nodejs npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
if [ -z "${RINGGATE_TEST_POSTGRES_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    ver=$(ls /etc/postgresql | sort -n | tail -1)
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # A fresh Debian cluster asks for passwords on TCP and has no "test"
  # database; the tests want trust on loopback and that database.
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'SELECT 1' >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -n | tail -1)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
      $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
    fi
    psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
      || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test'
  fi
fi
go mod download
# The nested Go modules: the SDK (standard library only) and the generated
# client's (oapi-codegen, pinned as a tool).
(cd sdk/go && go mod download)
(cd sdk/gen/go && go mod download)
# The TypeScript SDK's pinned dev dependencies (package-lock.json): npm ci,
# skipped when node_modules already matches the lock file.
if [ ! -f sdk/js/node_modules/.package-lock.json ] || [ sdk/js/package-lock.json -nt sdk/js/node_modules/.package-lock.json ]; then
  (cd sdk/js && npm ci --no-audit --no-fund)
fi
# The official clients at the exact versions of compat/node/package-lock.json;
# skipped when node_modules already matches the lock file.
if [ ! -f compat/node/node_modules/.package-lock.json ] \
   || [ compat/node/package-lock.json -nt compat/node/node_modules/.package-lock.json ]; then
  (cd compat/node && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd compat/twiliogo && go mod download)
