#!/usr/bin/env bash
# Durable ingest on PostgreSQL, three ways, same build, same run (Membership:Ledger:Mode):
#   group-commit  the engine: one COPY per few milliseconds for every member write of the silo
#   per-append    one ledger transaction per member write, concurrently on pooled connections
#   grain-state   a plain Orleans grain: WriteStateAsync of the whole member (ADO.NET storage) per write
#   one-per-flush the group-commit writer switched to one append per round trip (MaxBatchRows=1)
# Usage: bash load-tests/durable-ingest.sh [seconds] [copies] [batch]
set -euo pipefail
cd "$(dirname "$0")/.."
STEP="${1:-20}"; COPIES="${2:-8}"; BATCH="${3:-500}"
OUT="load-tests/results/durable-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
dotnet build -c Release src/Silo -v q --nologo >/dev/null
dotnet build -c Release load-tests -v q --nologo >/dev/null
for run in group-commit per-append grain-state one-per-flush; do
  mode=$run; extra=""
  if [ "$run" = one-per-flush ]; then mode=group-commit; extra="--Membership:Ledger:MaxBatchRows=1"; fi
  URL=http://127.0.0.1:5081
  # A fresh database per mode: no mode starts from another's members.
  runuser -u postgres -- psql -qtA -c "drop database if exists membership_bench" >/dev/null
  CS="$(bash scripts/postgres-up.sh membership_bench | tail -n 1)"
  dotnet src/Silo/bin/Release/net10.0/Orleans.Membership.Silo.dll --urls $URL "--ConnectionStrings:Membership=$CS" \
    --Membership:Ledger:Mode=$mode $extra --Membership:ClusterId="bench-$run-$$" >"$OUT/node-$run.log" 2>&1 &
  NODE=$!
  for _ in $(seq 1 60); do curl -fs $URL/healthz >/dev/null && break; sleep 1; done
  # Warm-up, not measured: activates the members, so the measured run compares writes, not activations.
  dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --scenario festival \
    --members 10000 --copies "$COPIES" --batch "$BATCH" --duration 8s --out "$OUT/$run-warmup" >/dev/null 2>&1 || true
  dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --scenario festival \
    --members 10000 --copies "$COPIES" --batch "$BATCH" --duration "${STEP}s" --out "$OUT/$run" >/dev/null 2>&1 || true
  kill $NODE; wait $NODE 2>/dev/null || true
  python3 -c "import json; r=json.load(open('$OUT/$run/report.json'))['scenarios'][0]; print('%-13s %7.0f events/s, batch p50 %5.0f ms p99 %6.0f ms, ok %d fail %d' % ('$run', r['metrics']['eventsPerSecond'], r['latencyMs']['p50'], r['latencyMs']['p99'], r['ok'], r['fail']))"
done
echo "reports: $OUT"
