#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a while each: ./scripts/fuzz.sh 30s
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-30s}"
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
  pkg="./$(dirname "${f#./}")"
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do
    echo "fuzz $pkg $fn ($t)"
    go test -run "^$" -fuzz "^${fn}\$" -fuzztime "$t" -fuzzminimizetime 2s "$pkg" > /tmp/fuzz-$fn.log 2>&1 || { cat /tmp/fuzz-$fn.log; exit 1; }
  done
done
