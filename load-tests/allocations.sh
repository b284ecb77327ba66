#!/usr/bin/env bash
# Allocation per operation on a fresh seeded node (10,000 members): /v1/diagnostics/runtime read around
# 10 s of checkout at 5,000 requests/s, then around 10 s of festival at 16 batches of 500 a second.
# Extra arguments are environment settings for the node (VAR=value).
# Usage: bash load-tests/allocations.sh [VAR=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
URL=http://127.0.0.1:5086
OUT="load-tests/results/allocations-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
NODE_ENV="$*" start_node "$OUT/node.log" $URL --Membership:SiloPort=11116 --Membership:GatewayPort=30006
LT="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL"
A() { curl -fs $URL/v1/diagnostics/runtime | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['allocatedBytes'], d['gen0Collections'], d['totalGcPauseMs'])"; }
$LT --scenario seed --members 10000 --out "$OUT/seed" >/dev/null 2>&1
$LT --scenario checkout --members 10000 --duration 5s --out "$OUT/w" >/dev/null 2>&1 || true
a=$(A); $LT --scenario checkout --members 10000 --rate 5000 --duration 10s --out "$OUT/c" >/dev/null 2>&1 || true; b=$(A)
python3 - "$a" "$b" $OUT/c/report.json <<'PY'
import sys,json
a=sys.argv[1].split(); b=sys.argv[2].split(); r=json.load(open(sys.argv[3]))['scenarios'][0]
n=r['ok']+r['fail']; print('checkout: %d requests, %.0f B/request, gen0 %d, paused %.0f ms' % (n, (int(b[0])-int(a[0]))/n, int(b[1])-int(a[1]), float(b[2])-float(a[2])))
PY
a=$(A); $LT --scenario festival --members 10000 --rate 16 --duration 10s --out "$OUT/f" >/dev/null 2>&1 || true; b=$(A)
python3 - "$a" "$b" $OUT/f/report.json <<'PY'
import sys,json
a=sys.argv[1].split(); b=sys.argv[2].split(); r=json.load(open(sys.argv[3]))['scenarios'][0]
n=(r['ok'])*500; print('festival: %d events, %.0f B/event, gen0 %d, paused %.0f ms, %s' % (n, (int(b[0])-int(a[0]))/n, int(b[1])-int(a[1]), float(b[2])-float(a[2]), r.get('metrics')))
PY
