#!/usr/bin/env bash
# Durable ingest on the PostgreSQL ledger: group commit against one ledger write per append, same build,
# same run. Usage: bash load-tests/durable-ingest.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
STEP="${1:-20}"
CS="$(bash scripts/postgres-up.sh membership_bench | tail -n 1)"
OUT="load-tests/results/durable-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
dotnet build -c Release src/Silo -v q --nologo >/dev/null
dotnet build -c Release load-tests -v q --nologo >/dev/null
for mode in true false; do
  URL=http://127.0.0.1:5081
  dotnet src/Silo/bin/Release/net10.0/Orleans.Membership.Silo.dll --urls $URL "--ConnectionStrings:Membership=$CS" \
    --Membership:Ledger:GroupCommit=$mode --Membership:ClusterId="bench-$mode" >"$OUT/node-$mode.log" 2>&1 &
  NODE=$!
  for _ in $(seq 1 60); do curl -fs $URL/healthz >/dev/null && break; sleep 1; done
  dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --scenario festival \
    --members 10000 --copies 4 --batch 100 --duration "${STEP}s" --out "$OUT/groupcommit-$mode" >/dev/null 2>&1 || true
  kill $NODE; wait $NODE 2>/dev/null || true
  python3 -c "import json; r=json.load(open('$OUT/groupcommit-$mode/report.json'))['scenarios'][0]; print('group commit $mode: %.0f events/s, batch p50 %.0f ms p99 %.0f ms, fail %d' % (r['metrics']['eventsPerSecond'], r['latencyMs']['p50'], r['latencyMs']['p99'], r['fail']))"
done
echo "reports: $OUT"
