#!/usr/bin/env bash
# Checkout during ingest on a fresh node, with the GC's share: seed 10,000 members, 5 s checkout warm-up,
# then the mixed scenario for 20 s, /v1/diagnostics/runtime read before and after. Extra arguments are
# environment settings for the node (e.g. DOTNET_GCgen0size=0x4000000). FESTIVAL_RATE (batches/s) and
# CHECKOUT_RATE (requests/s) set the load, BATCH (default 500) the events per festival batch; WARMUP
# (default 5s) the checkout warm-up after seeding; PREFILL (e.g. 30s) runs the festival at full speed for
# that long first, as benchmark.sh's festival step does before its mixed step; MIXED_WARMUP (e.g. 20s)
# runs the mixed scenario itself that long, unmeasured, first (ingest in its steady state when the
# measured 20 s begin, not just started);
# IDLE_MEMBERS (e.g. 10000) seeds that many more members (m10000 on) that the load never touches: seeded
# with past orders, their points-expiring notices fall due together, a sweep backlog beside the load;
# PREFILL_FIRST_MEMBER (e.g. 10000) runs PREFILL on members from that number on instead of the measured
# ones (the code warmed, the measured members' state not grown);
# POSTGRES=1 runs the node on PostgreSQL; NODE_DLL another build's node (for a pair). The longest pauses
# are sampled: /v1/diagnostics/runtime names each kind's last collection, read every 50 ms.
# Usage: bash load-tests/mixed-gc.sh [VAR=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
URL=http://127.0.0.1:5084
OUT="${OUT:-load-tests/results/mixed-gc-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
ARGS=(--Membership:SiloPort=11114 --Membership:GatewayPort=30004)
if [ "${POSTGRES:-0}" = 1 ]; then ARGS+=("--ConnectionStrings:Membership=$(fresh_database membership_bench)"); fi
NODE_ENV="$*" start_node "$OUT/node.log" $URL "${ARGS[@]}"
LT="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL"
$LT --scenario seed --members 10000 --out "$OUT/seed" >/dev/null 2>&1
if [ -n "${IDLE_MEMBERS:-}" ]; then $LT --scenario seed --members "$IDLE_MEMBERS" --first-member 10000 --out "$OUT/seed-idle" >/dev/null 2>&1; fi
if [ -n "${PREFILL:-}" ]; then $LT --scenario festival --members 10000 --first-member "${PREFILL_FIRST_MEMBER:-0}" --copies 8 --duration "$PREFILL" --out "$OUT/prefill" >/dev/null 2>&1 || true; fi
$LT --scenario checkout --members 10000 --duration "${WARMUP:-5s}" --out "$OUT/warmup" >/dev/null 2>&1 || true
MIXED_ARGS=(--members 10000 --festival-rate "${FESTIVAL_RATE:-16}" --batch "${BATCH:-500}" --rate "${CHECKOUT_RATE:-7228}")
if [ -n "${MIXED_WARMUP:-}" ]; then $LT --scenario mixed "${MIXED_ARGS[@]}" --duration "$MIXED_WARMUP" --out "$OUT/mixed-warmup" >/dev/null 2>&1 || true; fi
curl -fs $URL/v1/diagnostics/runtime >"$OUT/before.json"
( while sleep 0.05; do curl -fs $URL/v1/diagnostics/runtime && echo; done >"$OUT/samples.jsonl" 2>/dev/null ) &
SAMPLER=$!
$LT --scenario mixed "${MIXED_ARGS[@]}" --duration 20s --out "$OUT/mixed" >/dev/null 2>&1 || true
kill $SAMPLER 2>/dev/null || true
curl -fs $URL/v1/diagnostics/runtime >"$OUT/after.json"
python3 - "$OUT" "$*" <<'PY'
import json, sys
out, settings = sys.argv[1], sys.argv[2] or 'defaults'
f, c = json.load(open(f'{out}/mixed/report.json'))['scenarios'][:2]
a = json.load(open(f'{out}/before.json')); b = json.load(open(f'{out}/after.json'))
print('%s: festival %.0f events/s; checkout p50 %.2f p99 %.2f p99.9 %.2f ms (valid %s); GC %d gen0 %d gen1 %d gen2, %.0f ms paused, heap %.0f MB' % (
    settings, f['metrics']['eventsPerSecond'], c['latencyMs']['p50'], c['latencyMs']['p99'], c['latencyMs']['p999'], c['valid'],
    b['gen0Collections'] - a['gen0Collections'], b['gen1Collections'] - a['gen1Collections'], b['gen2Collections'] - a['gen2Collections'],
    b['totalGcPauseMs'] - a['totalGcPauseMs'], b['heapBytes'] / 1e6))
seen = {(g['kind'], g['index']) for g in a['lastGcs']}
pauses = {}
for line in open(f'{out}/samples.jsonl'):
    if line.strip():
        for g in json.loads(line)['lastGcs']:
            if (g['kind'], g['index']) not in seen: pauses[(g['kind'], g['index'])] = g
longest = sorted(pauses.values(), key=lambda g: -g['pauseMs'])[:6]
print('longest pauses (sampled): ' + ', '.join('%.0f ms gen%d %s' % (g['pauseMs'], g['generation'], g['kind']) for g in longest))
PY
