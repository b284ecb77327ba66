#!/usr/bin/env bash
# Installs Debian's chromium if missing (for the load-test report's browser test) and prints the
# binary's path as its last line. Idempotent. Usage: scripts/chromium-up.sh
set -euo pipefail

find_chromium() { command -v chromium || command -v chromium-browser || true; }

BIN="$(find_chromium)"
if [ -z "$BIN" ]; then
  echo "installing chromium..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  BIN="$(find_chromium)"
fi
[ -n "$BIN" ] || { echo "chromium did not install" >&2; exit 1; }
echo "$BIN"
