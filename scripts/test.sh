#!/usr/bin/env bash
# The whole test suite: starts PostgreSQL and NATS for the tests that need real servers, builds, runs every
# test project, and prints one closing line "Tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f scripts/postgres-up.sh ] && [ -z "${MEMBERSHIP_TEST_PG:-}" ]; then
  MEMBERSHIP_TEST_PG="$(bash scripts/postgres-up.sh membership_test | tail -n 1)"
  export MEMBERSHIP_TEST_PG
fi
# Headless Chromium for the load-test report's browser test.
if [ -f scripts/chromium-up.sh ] && [ -z "${MEMBERSHIP_TEST_CHROMIUM:-}" ]; then
  MEMBERSHIP_TEST_CHROMIUM="$(bash scripts/chromium-up.sh | tail -n 1)"
  export MEMBERSHIP_TEST_CHROMIUM
fi
# NATS JetStream for the festival-ingest tests (installed and started by the script if needed).
if [ -f scripts/nats-up.sh ] && [ -z "${MEMBERSHIP_TEST_NATS:-}" ]; then
  MEMBERSHIP_TEST_NATS="$(bash scripts/nats-up.sh | tail -n 1)"
  export MEMBERSHIP_TEST_NATS
fi

log="$(mktemp)"
set +e
dotnet test Orleans.Membership.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

passed=0; failed=0; skipped=0
while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
done < <(sed -nE 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+), Skipped:[[:space:]]*([0-9]+).*/\1 \2 \3/p' "$log")
rm -f "$log"
echo "Tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
