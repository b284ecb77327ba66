#!/usr/bin/env bash
# Every figure of docs/benchmarks.md (embedded node), in one run on one node, so ratios compare like
# with like on a noisy shared machine. CLIENT=httpclient sends through .NET's HttpClient instead of the
# lean client; PORT (default 5080) and NODE_ARGS (e.g. --Membership:SiloPort=11112) place the node.
# Writes index.html and index.md beside the runs: every step's report linked, its figures in one table.
# Usage: bash load-tests/benchmark.sh [seconds-per-step]
set -euo pipefail
cd "$(dirname "$0")/.."
STEP="${1:-20}"
OUT="load-tests/results/benchmark-$(date -u +%Y%m%d-%H%M%S)"
PORT=${PORT:-5080}
URL="http://127.0.0.1:$PORT"
mkdir -p "$OUT"

source load-tests/node.sh
build_release src/Silo load-tests
command -v wrk >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }

if curl -fs "$URL/healthz" >/dev/null 2>&1; then echo "something already serves $URL: stop it first" >&2; exit 1; fi
# shellcheck disable=SC2086
start_node "$OUT/node.log" "$URL" ${NODE_ARGS:-}

GENERATOR="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll"
LT="$GENERATOR --target $URL --client ${CLIENT:-lean}"
field() { python3 -c "import json,sys; r=json.load(open('$1/report.json'))['scenarios'][${3:-0}]; print($2)"; }
run() { local name=$1; shift; $LT "$@" --out "$OUT/$name" >"$OUT/$name.txt" 2>/dev/null || true; }
# say TEXT: prints a summary line and keeps it for the index page.
say() { echo "$*" | tee -a "$OUT/summary.txt"; }

run seed --scenario seed --members 10000
run baseline-max --scenario baseline --duration "${STEP}s"
run checkout-max --scenario checkout --members 10000 --duration "${STEP}s"
B=$(field "$OUT/baseline-max" "r['rps']")
C=$(field "$OUT/checkout-max" "r['rps']")
say "baseline max: $B req/s; checkout max: $C req/s; ratio $(python3 -c "print(round($C/$B,3))")"

for pct in 25 50 75; do
  rate=$(python3 -c "print(max(1,int($C*$pct/100)))")
  run "checkout-$pct" --scenario checkout --members 10000 --rate "$rate" --duration "${STEP}s"
  run "baseline-at-checkout-$pct" --scenario baseline --rate "$rate" --duration "${STEP}s"
  say "checkout at $pct% ($rate/s): $(field "$OUT/checkout-$pct" "'p50 %.3f p99 %.3f p99.9 %.3f ms, achieved %.0f/s, valid %s' % (r['latencyMs']['p50'], r['latencyMs']['p99'], r['latencyMs']['p999'], r['achievedRps'], r['valid'])")"
  say "  /healthz at the same rate: $(field "$OUT/baseline-at-checkout-$pct" "'p50 %.3f p99 %.3f p99.9 %.3f ms' % (r['latencyMs']['p50'], r['latencyMs']['p99'], r['latencyMs']['p999'])")"
done

run festival-max --scenario festival --members 10000 --copies 8 --duration "${STEP}s"
E=$(field "$OUT/festival-max" "r['metrics']['eventsPerSecond']")
FB=$(field "$OUT/festival-max" "r['rps']")
say "festival max: $E events/s ($FB batches of 500/s), batch p99 $(field "$OUT/festival-max" "r['latencyMs']['p99']") ms"

# Each at a quarter of its own maximum: together about half the machine, as on a sales day with headroom.
HALF=$(python3 -c "print(max(1,int($FB/4)))")
CHALF=$(python3 -c "print(max(1,int($C/4)))")
run mixed --scenario mixed --members 10000 --festival-rate "$HALF" --rate "$CHALF" --duration "${STEP}s"
say "mixed (festival $HALF batches/s + checkout $CHALF/s): festival $(field "$OUT/mixed" "'%.0f events/s, batch p99 %.1f ms' % (r['metrics']['eventsPerSecond'], r['latencyMs']['p99'])" 0); checkout $(field "$OUT/mixed" "'p50 %.3f p99 %.3f p99.9 %.3f ms' % (r['latencyMs']['p50'], r['latencyMs']['p99'], r['latencyMs']['p999'])" 1)"

# Cross-check with an external generator (wrk, C, closed loop, 64 connections like ours).
wrk -t2 -c64 -d"${STEP}s" --latency "$URL/healthz" >"$OUT/wrk-baseline.txt"
wrk -t2 -c64 -d"${STEP}s" --latency "$URL/v1/programs/default/members/m0/benefits/free-shipping" >"$OUT/wrk-checkout-m0.txt"
run checkout-m0 --scenario checkout --members 1 --duration "${STEP}s"
say "wrk: /healthz $(grep Requests/sec "$OUT/wrk-baseline.txt" | awk '{print $2}') req/s; checkout (one member) $(grep Requests/sec "$OUT/wrk-checkout-m0.txt" | awk '{print $2}') req/s, p99 $(grep ' 99%' "$OUT/wrk-checkout-m0.txt" | awk '{print $2}')"
say "ours, checkout of one member: $(field "$OUT/checkout-m0" "'%.0f req/s, p99 %.3f ms' % (r['rps'], r['latencyMs']['p99'])")"
$GENERATOR index "$OUT" --title "benchmark.sh $STEP s per step, $(date -u +%Y-%m-%d) UTC" >/dev/null
echo "reports: $OUT (index.html links every step's report)"
