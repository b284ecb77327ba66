#!/usr/bin/env bash
# What telemetry costs the checkout path, on fresh seeded embedded nodes with OpenTelemetry on (the
# default, /metrics scraped every 5 s) and off (Membership:Telemetry:Enabled=false), alternated: PAIRS
# pairs, the order swapped every other pair. The Orleans Dashboard is in the same state on both sides:
# on (the default), or off with DASHBOARD=off; DASHBOARD=compare puts it on with telemetry and off
# without (the whole of what a default node adds). Each run measures checkout at full speed (closed
# model, 64 copies: rps) and then at a fixed RATE (default 5,000/s: the node's CPU milliseconds and bytes
# allocated per request, which other load on a shared machine disturbs less than throughput). One line
# per run, then the medians of each side.
# Usage: [DASHBOARD=on|off|compare] [RATE=5000] bash load-tests/telemetry-cost.sh [PAIRS=3] [SECONDS=10] [MEMBERS=10000]
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
  local a b
  a="$(cpu) $(allocated)"
  $LT --scenario checkout --members "$MEMBERS" --rate "${RATE:-5000}" --duration "${DURATION}s" --warmup 0s --out "$dir-rate" >/dev/null 2>&1 || true
  b="$(cpu) $(allocated)"
  kill $scraper 2>/dev/null || true
  stop_node
  python3 - "$name" "$dir/report.json" "$dir-rate/report.json" "$a" "$b" "$(getconf CLK_TCK)" <<'PY' | tee -a "$OUT/runs.txt"
import json, sys
c = json.load(open(sys.argv[2]))['scenarios'][0]
r = json.load(open(sys.argv[3]))['scenarios'][0]
a, b = [int(x) for x in sys.argv[4].split()], [int(x) for x in sys.argv[5].split()]
n = r['ok'] + r['fail']
print('%s rps %.0f p99 %.2f | at %.0f/s: cpu %.1f ms per 1000 requests, %.0f B/request' % (
    sys.argv[1], c['achievedRps'], c['latencyMs']['p99'], r['achievedRps'], 1000.0 * (b[0] - a[0]) / int(sys.argv[6]) * 1000 / n, (b[1] - a[1]) / n))
PY
}

# The node's CPU time so far (clock ticks) and bytes allocated.
cpu() { awk '{print $14 + $15}' "/proc/$NODE/stat"; }
allocated() { curl -fs "$URL/v1/diagnostics/runtime" | python3 -c "import json,sys; print(json.load(sys.stdin)['allocatedBytes'])"; }

case "${DASHBOARD:-on}" in
  on) ON=""; OFF="Membership__Telemetry__Enabled=false" ;;
  off) ON="Membership__Dashboard__Enabled=false"; OFF="Membership__Telemetry__Enabled=false Membership__Dashboard__Enabled=false" ;;
  compare) ON=""; OFF="Membership__Telemetry__Enabled=false Membership__Dashboard__Enabled=false" ;;
  *) echo "DASHBOARD must be on, off or compare" >&2; exit 64 ;;
esac
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then run on "$i" "$ON"; run off "$i" "$OFF"; else run off "$i" "$OFF"; run on "$i" "$ON"; fi
done
python3 - "$OUT/runs.txt" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
def median(side, i): return statistics.median(float(r[i]) for r in runs if r[0] == side)
on, off = median('on', 2), median('off', 2)
print('checkout median rps: telemetry on %.0f, off %.0f (%+.1f%%)' % (on, off, 100 * (on - off) / off))
on, off = median('on', 9), median('off', 9)
print('node CPU per 1000 checkout requests (median): on %.1f ms, off %.1f ms (%+.1f%%)' % (on, off, 100 * (on - off) / off))
on, off = median('on', 14), median('off', 14)
print('bytes allocated per checkout request (median): on %.0f, off %.0f' % (on, off))
PY
