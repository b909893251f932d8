#!/usr/bin/env bash
# Checks the deployment files with the tools their ecosystems use:
#   systemd-analyze verify deploy/ringgate.service   (Debian: systemd)
#   promtool check rules deploy/monitoring/*.yml      (Debian: prometheus)
#   hadolint deploy/Containerfile                     (when installed; it is
#     packaged neither by Debian nor npm, so CI does not require it)
# The Go tests check the rest: the release binary runs and serves under the
# container's environment (cmd/ringgate TestReleaseBinary), and every metric
# the dashboard and the rules query exists (internal/server
# TestDashboardMetricsExist). Under CI=true a missing required tool fails.
set -euo pipefail
cd "$(dirname "$0")/.."
missing() {
  if [ "${CI:-}" = true ]; then echo "check-deploy: $1 is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; fi
  echo "check-deploy: skipping, $1 is not installed" >&2
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if command -v systemd-analyze >/dev/null; then
  # verify wants ExecStart's binary to exist: point it at a stand-in.
  install -m 0755 /bin/true "$tmp/ringgate"
  sed "s#/usr/local/bin/ringgate#$tmp/ringgate#" deploy/ringgate.service > "$tmp/ringgate.service"
  out="$(systemd-analyze verify "$tmp/ringgate.service" 2>&1 || true)"
  # Outside a booted systemd (containers, CI) verify also reports on the
  # host's own units; only lines about ours count.
  if echo "$out" | grep -F "ringgate.service" | grep -v "Failed to prepare filename" ; then
    echo "check-deploy: systemd-analyze verify found problems in deploy/ringgate.service" >&2
    exit 1
  fi
  echo "ok   deploy/ringgate.service (systemd-analyze verify)"
  sec="$(systemd-analyze security --offline=true "$tmp/ringgate.service" 2>/dev/null | tail -1 || true)"
  [ -n "$sec" ] && echo "     $sec"
else
  missing systemd-analyze
fi

if command -v promtool >/dev/null; then
  promtool check rules deploy/monitoring/ringgate-alerts.yml
else
  missing promtool
fi

if command -v hadolint >/dev/null; then
  hadolint deploy/Containerfile
  echo "ok   deploy/Containerfile (hadolint)"
else
  echo "check-deploy: hadolint not installed (not packaged by Debian or npm); Containerfile checked by TestDeployFiles only" >&2
fi
