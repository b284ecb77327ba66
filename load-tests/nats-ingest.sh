#!/usr/bin/env bash
# Festival ingest through NATS JetStream against HTTP batches, on PostgreSQL (docs/benchmarks.md, "Ingest").
# One fresh database and one node (Membership:Streams:Provider=nats, streams BENCH_EVENTS and BENCH_DEAD of its own, made fresh), 10,000 seeded members, then in turn:
#   1. HTTP: --scenario festival, 8 concurrent batches of 500 (the durable-ingest comparison), events/s;
#   2. NATS at full speed: --scenario stream with 512 publishers for the step, then the backlog the broker
#      holds is drained with no publisher running: that drain's events/s is the node's own rate; the CPU
#      each process spent per ledger row over both (load-tests/cpu-split.py);
#   3. checkout alone at CHECKOUT_RATE (default 7228) benefit checks a second, then NATS at half the
#      drain rate (or STREAM_RATE) beside the same checkout: checkout p99 without and with the stream.
# Usage: bash load-tests/nats-ingest.sh [seconds per step, default 20]   (WARMUP, default 8s, before each;
# HTTP_PORT, SILO_PORT, GATEWAY_PORT: the node's, default 5084, 11114, 30004)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_STEP="${1:-20}"; WARMUP="${WARMUP:-8s}"
OUT="load-tests/results/nats-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
# The bench streams are deleted so each run starts empty.
NATS_URL="$(bash scripts/nats-up.sh --fresh BENCH_EVENTS BENCH_DEAD | tail -n 1)"
export NATS_URL NATS_SUBJECT=bench.events

URL="http://127.0.0.1:${HTTP_PORT:-5084}"
start_node "$OUT/node.log" "$URL" "--Membership:SiloPort=${SILO_PORT:-11114}" "--Membership:GatewayPort=${GATEWAY_PORT:-30004}" \
  "--ConnectionStrings:Membership=$(fresh_database membership_bench_nats)" \
  --Membership:Streams:Provider=nats "--Membership:Streams:Nats:Url=$NATS_URL" \
  --Membership:Streams:Nats:Stream=BENCH_EVENTS --Membership:Streams:Nats:Subject=bench.events \
  --Membership:Streams:Nats:DeadLetterStream=BENCH_DEAD --Membership:Streams:Nats:DeadLetterSubject=bench.dead
LOAD=(dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL --members 10000)
"${LOAD[@]}" --scenario seed --out "$OUT/seed" >/dev/null 2>&1 || echo "seed: not every batch was accepted (a slow machine times batches out; see $OUT/seed)"

echo "== HTTP festival batches of 500, 8 at once"
"${LOAD[@]}" --scenario festival --copies 8 --batch 500 --duration "${SECONDS_PER_STEP}s" --warmup "$WARMUP" --out "$OUT/festival" 2>/dev/null | grep -E "events/s|festival/event-batch" || true

echo "== NATS at full speed (512 publishers)"
# Publishing and the drain, with where the machine's CPU went per ledger row (load-tests/cpu-split.py).
python3 load-tests/cpu-split.py membership_bench_nats -- "${LOAD[@]}" --scenario stream --copies 512 --duration "${SECONDS_PER_STEP}s" --warmup "$WARMUP" --out "$OUT/stream-max" 2>&1 \
  | tee "$OUT/stream-max.txt" | grep -E "^stream:|stream/publish|events/s|^cpu split" || true
MAX="$(sed -nE 's/^stream: backlog of [0-9]+ events drained in [0-9.]+ s after publishing ended: ([0-9]+) events\/s.*/\1/p' "$OUT/stream-max.txt")"
HALF="${STREAM_RATE:-$(( ${MAX:-0} / 2 ))}"
if [ "$HALF" -lt 1 ]; then echo "no drain rate measured (see $OUT/stream-max.txt): set STREAM_RATE" >&2; exit 1; fi

echo "== checkout alone at ${CHECKOUT_RATE:-7228}/s (the same node, for the step after)"
"${LOAD[@]}" --scenario checkout --rate "${CHECKOUT_RATE:-7228}" --duration "${SECONDS_PER_STEP}s" --warmup "$WARMUP" --out "$OUT/checkout-alone" 2>/dev/null | grep -E "checkout/benefit-check|cpu:" || true

echo "== NATS at $HALF events/s beside checkout at ${CHECKOUT_RATE:-7228}/s"
"${LOAD[@]}" --scenario stream --rate "$HALF" --duration "${SECONDS_PER_STEP}s" --warmup "$WARMUP" --out "$OUT/stream-half" >"$OUT/stream-half.txt" 2>&1 &
STREAM=$!
"${LOAD[@]}" --scenario checkout --rate "${CHECKOUT_RATE:-7228}" --duration "${SECONDS_PER_STEP}s" --warmup "$WARMUP" --out "$OUT/checkout" 2>/dev/null | grep -E "checkout/benefit-check|cpu:" || true
wait $STREAM || true
grep -E "^stream:|stream/publish|events/s" "$OUT/stream-half.txt"
echo "reports: $OUT"
