#!/usr/bin/env bash
# Allocation and GC per ingested event: a fresh node (embedded, or PostgreSQL with "postgres"), a 10 s
# festival warm-up, then 15 s measured with the node's /v1/diagnostics/runtime read before and after.
# Usage: bash load-tests/ingest-allocations.sh [embedded|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-embedded}"
URL=http://127.0.0.1:5083
OUT="load-tests/results/alloc-$MODE-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
ARGS=(--Membership:SiloPort=11113 --Membership:GatewayPort=30003)
if [ "$MODE" = postgres ]; then ARGS+=("--ConnectionStrings:Membership=$(fresh_database membership_bench)"); fi
start_node "$OUT/node.log" $URL "${ARGS[@]}"
LT="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --scenario festival --members 10000 --copies 8 --batch 500"
$LT --duration 10s --out "$OUT/warmup" >/dev/null 2>&1 || true
curl -fs $URL/v1/diagnostics/runtime >"$OUT/before.json"
$LT --duration 15s --warmup 0s --out "$OUT/measured" >/dev/null 2>&1 || true
curl -fs $URL/v1/diagnostics/runtime >"$OUT/after.json"
python3 - "$OUT" "$MODE" <<'PY'
import json, sys
out, mode = sys.argv[1], sys.argv[2]
a = json.load(open(f'{out}/before.json')); b = json.load(open(f'{out}/after.json'))
r = json.load(open(f'{out}/measured/report.json'))['scenarios'][0]
events = r['units']['events']  # every event the node applied in the measured run, the drain's too, as the allocations span it
print('%s: %.0f events/s, %.0f bytes allocated per event, GC: %d gen0 %d gen1 %d gen2, %.0f ms paused, heap %.0f MB' % (
    mode, r['metrics']['eventsPerSecond'], (b['allocatedBytes'] - a['allocatedBytes']) / events,
    b['gen0Collections'] - a['gen0Collections'], b['gen1Collections'] - a['gen1Collections'], b['gen2Collections'] - a['gen2Collections'],
    b['totalGcPauseMs'] - a['totalGcPauseMs'], b['heapBytes'] / 1e6))
PY
