#!/usr/bin/env bash
# Regenerates ringgate's built-in voice prompts (internal/prompts/assets:
# the default dialplan's phrases and the digits 0-9 in en, fr, es, de, as
# 8 kHz G.711 µ-law) with espeak-ng. The output is committed; only run this
# after changing prompts.Catalog or prompts.Digits. Needs: apt-get install espeak-ng.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "make-prompts: espeak-ng is not installed (apt-get install espeak-ng)" >&2; exit 1; }
# The built-in set must load while mkprompts runs: keep the old assets
# until the new ones are written over them.
GOFLAGS=-buildvcs=false go run ./internal/prompts/mkprompts -out internal/prompts/assets
du -sh internal/prompts/assets
