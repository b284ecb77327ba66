#!/usr/bin/env bash
# Checkout alone at a fixed rate on a fresh seeded node (10,000 members), with the GC's share: 5 s
# warm-up, then 20 s at RATE requests/s (default 13,100: half this machine's checkout maximum).
# Extra arguments are environment settings for the node (VAR=value).
# Usage: bash load-tests/checkout-gc.sh [VAR=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
URL=http://127.0.0.1:5088
OUT="load-tests/results/checkout-gc-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
NODE_ENV="$*" start_node "$OUT/node.log" $URL --Membership:SiloPort=11118 --Membership:GatewayPort=30008
LT="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL"
$LT --scenario seed --members 10000 --out "$OUT/seed" >/dev/null 2>&1
$LT --scenario checkout --members 10000 --duration 5s --out "$OUT/w" >/dev/null 2>&1 || true
a=$(curl -fs $URL/v1/diagnostics/runtime)
$LT --scenario checkout --members 10000 --rate ${RATE:-13100} --duration 20s --out "$OUT/c" >/dev/null 2>&1 || true
b=$(curl -fs $URL/v1/diagnostics/runtime)
python3 - "$a" "$b" "$OUT/c/report.json" "$*" <<'PY'
import json,sys
a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); c=json.load(open(sys.argv[3]))['scenarios'][0]
print('%s: checkout p50 %.2f p99 %.2f p99.9 %.2f ms (valid %s); GC %d gen0 %d gen1, %.0f ms paused' % (sys.argv[4] or 'defaults', c['latencyMs']['p50'], c['latencyMs']['p99'], c['latencyMs']['p999'], c['valid'], b['gen0Collections']-a['gen0Collections'], b['gen1Collections']-a['gen1Collections'], b['totalGcPauseMs']-a['totalGcPauseMs']))
PY
