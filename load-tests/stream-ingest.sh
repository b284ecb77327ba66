#!/usr/bin/env bash
# Stream ingest: examples/StreamProducer puts MEMBERS x EVENTS scoring events on the member streams of a
# fresh node; the rate is the applied one (the node's /v1/diagnostics/streams counters), from the first
# batch sent to the last event applied. Embedded, then on PostgreSQL. Two passes per node: "cold" (every
# member activates on its first batch, as at a festival's start) and then, with new event ids, "warm"
# (members active, as the HTTP festival figures are measured after their warm-up).
# Usage: bash load-tests/stream-ingest.sh [members] [events-per-member] ["embedded postgres" | embedded | postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS="${1:-10000}"; EVENTS="${2:-50}"; TOTAL=$((MEMBERS * EVENTS))
OUT="load-tests/results/stream-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo examples/StreamProducer
URL=http://127.0.0.1:5082
for mode in ${3:-embedded postgres}; do
  ARGS=(--Membership:SiloPort=11112 --Membership:GatewayPort=30002)
  if [ $mode = postgres ]; then ARGS+=("--ConnectionStrings:Membership=$(fresh_database membership_bench)"); fi
  start_node "$OUT/node-$mode.log" $URL "${ARGS[@]}"
  BASE=0
  for pass in cold warm; do
    START=$(date +%s.%N)
    dotnet examples/StreamProducer/bin/Release/net10.0/Orleans.Membership.StreamProducer.dll "$MEMBERS" "$EVENTS" default 30002 "$pass-" >"$OUT/producer-$mode-$pass.txt" 2>&1
    APPLIED=0
    for _ in $(seq 1 600); do
      APPLIED=$(( $(curl -fs $URL/v1/diagnostics/streams | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['accepted']+d['duplicates']+d['rejected'])") - BASE ))
      [ "$APPLIED" -ge "$TOTAL" ] && break
      sleep 0.2
    done
    END=$(date +%s.%N)
    BASE=$((BASE + APPLIED))
    python3 -c "print('%-8s %-4s %d of %d events applied in %.2f s: %.0f events/s (producer: %s)' % ('$mode', '$pass', $APPLIED, $TOTAL, $END-$START, $APPLIED/($END-$START), open('$OUT/producer-$mode-$pass.txt').read().strip()))"
  done
  stop_node
done
