#!/usr/bin/env bash
# What the generator itself costs: one open-model run on a fresh seeded node (10,000 members; 5 s of
# unmeasured load first), with the CPU the node and the generator each took over 10 s of it. GENERATOR
# may name another build's output folder (an older generator, for a pair); extra arguments are
# environment settings for the generator (VAR=value) or its own options (--client httpclient).
# Usage: bash load-tests/generator-cost.sh [checkout|baseline] [rate] [VAR=value ...] [--option value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO=${1:-checkout}
RATE=${2:-13100}
shift $(( $# < 2 ? $# : 2 ))
SETTINGS=(); OPTIONS=()
for a in "$@"; do if [[ $a == *=* && $a != -* ]]; then SETTINGS+=("$a"); else OPTIONS+=("$a"); fi; done
URL=http://127.0.0.1:5092
OUT="load-tests/results/generator-cost-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
start_node "$OUT/node.log" $URL --Membership:SiloPort=11122 --Membership:GatewayPort=30012
LT="dotnet ${GENERATOR:-load-tests/bin/Release/net10.0}/Orleans.Membership.LoadTests.dll --target $URL"
$LT --scenario seed --members 10000 --out "$OUT/seed" >/dev/null 2>&1
$LT --scenario "$SCENARIO" --members 10000 --duration 5s --out "$OUT/w" >/dev/null 2>&1 || true
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks
env "${SETTINGS[@]}" $LT --scenario "$SCENARIO" --members 10000 --rate "$RATE" --duration 20s --out "$OUT/c" "${OPTIONS[@]}" >/dev/null 2>&1 &
G=$!
sleep 5 # the generator's own warm-up (3 s) and start, then 10 s of the measured load
n0=$(cpu $NODE); g0=$(cpu $G); t0=$(date +%s.%N)
sleep 10
n1=$(cpu $NODE); g1=$(cpu $G); t1=$(date +%s.%N)
wait $G || true
python3 - "$OUT/c/report.json" "$n0" "$n1" "$g0" "$g1" "$t0" "$t1" "$(getconf CLK_TCK)" "$*" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))['scenarios'][0]
n0, n1, g0, g1, t0, t1, tck = map(float, sys.argv[2:9])
share = lambda a, b: 100 * (b - a) / tck / (t1 - t0)
l = c['latencyMs']
print('%s at %.0f/s%s: p50 %.2f p99 %.2f p99.9 %.2f ms, valid %s; CPU node %.0f%%, generator %.0f%% of a core'
      % (c['name'], c['targetRps'], ' (' + sys.argv[9] + ')' if sys.argv[9] else '', l['p50'], l['p99'], l['p999'], c['valid'], share(n0, n1), share(g0, g1)))
if 'maxLatencyMsPerSecond' in c:
    print('  slowest per second (ms):', ' '.join('%.0f' % x for x in c['maxLatencyMsPerSecond']))
PY
