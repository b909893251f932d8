#!/usr/bin/env bash
# Builds ringgate's release binaries: static (CGO_ENABLED=0, SQLite is pure
# Go), reproducible (-trimpath, -buildid=, the commit's own time as the
# build date), with SHA-256 checksums. `make release` runs it.
#
#   scripts/release.sh [OUTDIR]          default dist/
#   TARGETS="linux/amd64" scripts/release.sh   only some targets
#   VERSION=v1.2.3 scripts/release.sh    default: git describe
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
targets="${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}"
# The commit's time, not the clock's: building the same commit twice gives
# the same bytes.
date="$(git log -1 --format=%cI 2>/dev/null || echo unknown)"
ldflags="-s -w -buildid= -X main.buildVersion=${version} -X main.buildCommit=${commit} -X main.buildDate=${date}"
mkdir -p "$out"
files=()
for t in $targets; do
  os="${t%/*}" arch="${t#*/}"
  name="ringgate-${version}-${os}-${arch}"
  echo "building $name" >&2
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -ldflags "$ldflags" -o "$out/$name" ./cmd/ringgate
  files+=("$name")
done
(cd "$out" && sha256sum "${files[@]}" > SHA256SUMS)
echo "wrote ${files[*]} and SHA256SUMS to $out" >&2
