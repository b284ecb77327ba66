#!/usr/bin/env bash
# Durable ingest on PostgreSQL, three ways, same build, same run (Membership:Ledger:Mode):
#   group-commit  the engine: one COPY per few milliseconds for every member write of the silo
#   per-append    one ledger transaction per member write, concurrently on pooled connections
#   one-per-flush the group-commit writer switched to one append per round trip (MaxBatchRows=1)
# Usage: bash load-tests/durable-ingest.sh [seconds] [copies] [batch]
set -euo pipefail
cd "$(dirname "$0")/.."
STEP="${1:-20}"; COPIES="${2:-8}"; BATCH="${3:-500}"
OUT="load-tests/results/durable-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
for run in group-commit per-append one-per-flush; do
  mode=$run; extra=""
  if [ "$run" = one-per-flush ]; then mode=group-commit; extra="--Membership:Ledger:MaxBatchRows=1"; fi
  URL=http://127.0.0.1:5081
  # A fresh database per mode: no mode starts from another's members.
  CS="$(fresh_database membership_bench)"
  start_node "$OUT/node-$run.log" $URL "--ConnectionStrings:Membership=$CS" \
    --Membership:Ledger:Mode=$mode $extra --Membership:ClusterId="bench-$run-$$"
  # Warm-up, not measured: activates the members, so the measured run compares writes, not activations.
  dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --scenario festival \
    --members 10000 --copies "$COPIES" --batch "$BATCH" --duration 8s --out "$OUT/$run-warmup" >/dev/null 2>&1 || true
  dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --scenario festival \
    --members 10000 --copies "$COPIES" --batch "$BATCH" --duration "${STEP}s" --out "$OUT/$run" >/dev/null 2>&1 || true
  stop_node
  python3 -c "import json; r=json.load(open('$OUT/$run/report.json'))['scenarios'][0]; print('%-13s %7.0f events/s, batch p50 %5.0f ms p99 %6.0f ms, ok %d fail %d' % ('$run', r['metrics']['eventsPerSecond'], r['latencyMs']['p50'], r['latencyMs']['p99'], r['ok'], r['fail']))"
done
echo "reports: $OUT"
