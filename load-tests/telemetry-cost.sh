#!/usr/bin/env bash
# What telemetry costs the checkout path: checkout at full speed (closed model, 64 copies) on a fresh
# seeded embedded node with telemetry on (the default: OpenTelemetry with /metrics scraped every 5 s, the
# Orleans Dashboard) and off (Membership:Telemetry:Enabled=false, Membership:Dashboard:Enabled=false),
# alternated: PAIRS pairs, the order of each pair swapped every other pair. One line per run, then the
# median of each side and the cost.
# Usage: bash load-tests/telemetry-cost.sh [PAIRS=3] [SECONDS=10] [MEMBERS=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-3}
DURATION=${2:-10}
MEMBERS=${3:-10000}
URL=${URL:-http://127.0.0.1:5087}
OUT="load-tests/results/telemetry-cost-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
LT="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL"

# run NAME NODE_ENV: one fresh node, seeded, warmed, measured; prints "NAME rps p99".
run() {
  local name=$1 dir="$OUT/$1-$2"
  NODE_ENV="$3" start_node "$OUT/$1-$2.log" $URL --Membership:SiloPort=11117 --Membership:GatewayPort=30007
  $LT --scenario seed --members "$MEMBERS" --out "$dir-seed" >/dev/null 2>&1
  $LT --scenario checkout --members "$MEMBERS" --duration 5s --out "$dir-warm" >/dev/null 2>&1 || true
  ( while sleep 5; do curl -s -o /dev/null "$URL/metrics"; done ) &
  local scraper=$!
  $LT --scenario checkout --members "$MEMBERS" --duration "${DURATION}s" --warmup 0s --out "$dir" >/dev/null 2>&1 || true
  kill $scraper 2>/dev/null || true
  stop_node
  python3 - "$name" "$dir/report.json" <<'PY' | tee -a "$OUT/runs.txt"
import json, sys
c = json.load(open(sys.argv[2]))['scenarios'][0]
print('%s %.0f %.2f' % (sys.argv[1], c['achievedRps'], c['latencyMs']['p99']))
PY
}

ON=""
OFF="Membership__Telemetry__Enabled=false Membership__Dashboard__Enabled=false"
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then run on "$i" "$ON"; run off "$i" "$OFF"; else run off "$i" "$OFF"; run on "$i" "$ON"; fi
done
python3 - "$OUT/runs.txt" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
on = statistics.median(float(r[1]) for r in runs if r[0] == 'on')
off = statistics.median(float(r[1]) for r in runs if r[0] == 'off')
print('checkout median rps: telemetry on %.0f, off %.0f: cost %.1f%%' % (on, off, 100 * (off - on) / off))
PY
