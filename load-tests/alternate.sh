#!/usr/bin/env bash
# Two builds (or two runtime settings) alternated in one run, one step at a time, ROUNDS rounds (default 2):
#   postgres  a PostgreSQL node, 10,000 members seeded, 8 s of festival, then the festival maximum (8 batches
#             of 500 at once, 20 s) and the checkout maximum (10 s): events/s and requests/s;
#   cold      an embedded node, seeded, then straight into festival at FESTIVAL_RATE batches of 500 a second
#             (default 40) beside checkout at CHECKOUT_RATE (default 7,000) for 20 s: checkout p50/p99;
#   steady    an embedded node, seeded, 20 s of that mixed load unmeasured, then 20 s measured, then the
#             festival maximum (15 s).
# A and B are node DLLs (default: this checkout's Release build); ENV_A and ENV_B hold VAR=value runtime
# settings for each side (e.g. ENV_B="DOTNET_gcServer=0").
# Usage: A=/path/old/Orleans.Membership.Silo.dll bash load-tests/alternate.sh postgres|cold|steady [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
STEP=${1:?postgres, cold or steady}
ROUNDS=${2:-2}
THIS=src/Silo/bin/Release/net10.0/Orleans.Membership.Silo.dll
A=${A:-$THIS}; B=${B:-$THIS}
URL=http://127.0.0.1:5092
OUT="load-tests/results/alternate-$STEP-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
LT="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --members 10000"
MIXED=(--scenario mixed --festival-rate "${FESTIVAL_RATE:-40}" --batch 500 --rate "${CHECKOUT_RATE:-7000}" --duration 20s --warmup 0s)

one() { # one SIDE DLL ENV
  local dir="$OUT/$1-$(date -u +%H%M%S)" args=(--Membership:SiloPort=11122 --Membership:GatewayPort=30012)
  [ "$STEP" = postgres ] && args+=("--ConnectionStrings:Membership=$(fresh_database membership_alternate)" "--Membership:ClusterId=alternate-$$")
  NODE_DLL=$2 NODE_ENV="$3" start_node "$dir.log" "$URL" "${args[@]}"
  $LT --scenario seed --out "$dir-seed" >/dev/null 2>&1 || true
  case $STEP in
    postgres)
      $LT --scenario festival --copies 8 --duration 8s --out "$dir-warm" >/dev/null 2>&1 || true
      $LT --scenario festival --copies 8 --duration 20s --out "$dir-festival" >/dev/null 2>&1 || true
      $LT --scenario checkout --duration 10s --warmup 3s --out "$dir-checkout" >/dev/null 2>&1 || true
      echo "$1: festival $(field "$dir-festival" "'%.0f events/s' % r['metrics']['eventsPerSecond']"), checkout maximum $(field "$dir-checkout" "'%.0f/s' % r['rps']")" ;;
    cold)
      $LT "${MIXED[@]}" --out "$dir-mixed" >/dev/null 2>&1 || true
      echo "$1: checkout $(field "$dir-mixed" "'p50 %.2f p99 %.2f ms' % (r['latencyMs']['p50'], r['latencyMs']['p99'])" 1) beside $(field "$dir-mixed" "'%.0f events/s' % r['metrics']['eventsPerSecond']")" ;;
    steady)
      $LT "${MIXED[@]}" --out "$dir-unmeasured" >/dev/null 2>&1 || true
      $LT "${MIXED[@]}" --out "$dir-mixed" >/dev/null 2>&1 || true
      $LT --scenario festival --copies 8 --duration 15s --warmup 3s --out "$dir-festival" >/dev/null 2>&1 || true
      echo "$1: checkout $(field "$dir-mixed" "'p50 %.2f p99 %.2f ms' % (r['latencyMs']['p50'], r['latencyMs']['p99'])" 1); festival maximum $(field "$dir-festival" "'%.0f events/s' % r['metrics']['eventsPerSecond']")" ;;
  esac
  stop_node
}

for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then one A "$A" "${ENV_A:-}"; one B "$B" "${ENV_B:-}"; else one B "$B" "${ENV_B:-}"; one A "$A" "${ENV_A:-}"; fi
done | tee "$OUT/summary.txt"
echo "reports: $OUT"
