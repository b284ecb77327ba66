#!/usr/bin/env bash
# Bytes a member costs: a PostgreSQL node, MEMBERS (default 100,000) members seeded (4 events each), then
# two festival rounds at a fixed rate (about 6 events a member each). After the seed and after each round,
# dotnet-gcdump (installed if missing) makes the node collect its whole heap, and the node's
# /v1/diagnostics/runtime gives what survived that full collection (the live managed heap, plus any rows a
# build keeps in native memory; the dump itself is kept for a look at the types, but on a heap this size
# it is lossy). NODE_DLL measures another build's node the same way. The heap of the node before any
# member is subtracted, and the rest divided by the members (each member is an active grain: Orleans' own
# share of an activation is in the figure). The rounds run at a rate a PostgreSQL node keeps up with, and
# each heap is taken once the ledger and the due-time index have stopped growing: batches and due-time
# writes still queued in the node would count as members.
# Usage: bash load-tests/member-memory.sh   (MEMBERS, RATE batches/s of 500 events, ROUND seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS="${MEMBERS:-100000}"; RATE="${RATE:-20}"; ROUND="${ROUND:-60}"
URL=http://127.0.0.1:5085
OUT="${OUT:-load-tests/results/member-memory-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
source load-tests/node.sh
build_release src/Silo load-tests
command -v dotnet-gcdump >/dev/null 2>&1 || export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-gcdump >/dev/null 2>&1 || dotnet tool install -g dotnet-gcdump >/dev/null
DB=membership_memory
CS="$(fresh_database $DB)"
start_node "$OUT/node.log" $URL "--ConnectionStrings:Membership=$CS" --Membership:SiloPort=11115 --Membership:GatewayPort=30005 --Membership:ClusterId="memory-$$"
LT="dotnet load-tests/bin/Release/net10.0/Orleans.Membership.LoadTests.dll --target $URL"

settle() { # until two reads of the ledger's and the due index's rows, two seconds apart, agree (two minutes at most)
  local before=-1 now
  for _ in $(seq 1 60); do
    now=$(runuser -u postgres -- psql -d $DB -qtA -c "select (select count(*) from member_ledger) + (select count(*) from member_due)")
    [ "$now" = "$before" ] && return 0
    before=$now; sleep 2
  done
  echo "the ledger or the due index still grew after two minutes: the figure counts work in flight" >&2
}

heap() { # live managed bytes after a full collection, once the node has settled
  settle
  dotnet-gcdump collect -p "$NODE" -o "$OUT/$1.gcdump" >/dev/null 2>&1
  curl -fs "$URL/v1/diagnostics/runtime" | python3 -c "import json,sys; d=json.load(sys.stdin); print(next(g['promotedBytes'] for g in d['lastGcs'] if g['kind'] == 'FullBlocking') + d.get('nativeRowBytes', 0))"
}

empty=$(heap empty)
# A batch refused while 100,000 members activate leaves a few members unseeded: no matter for the figure.
$LT --scenario seed --members "$MEMBERS" --out "$OUT/seed" >"$OUT/seed.txt" 2>&1 || true
seeded=$(heap seeded)
$LT --scenario festival --members "$MEMBERS" --rate "$RATE" --batch 500 --duration "${ROUND}s" --out "$OUT/round1" >"$OUT/round1.txt" 2>&1 || true
round1=$(heap round1)
$LT --scenario festival --members "$MEMBERS" --rate "$RATE" --batch 500 --duration "${ROUND}s" --out "$OUT/round2" >"$OUT/round2.txt" 2>&1 || true
round2=$(heap round2)
python3 - "$OUT" "$MEMBERS" "$empty" "$seeded" "$round1" "$round2" <<'PY'
import json, sys
out, members = sys.argv[1], int(sys.argv[2])
empty, seeded, r1, r2 = (int(x) for x in sys.argv[3:7])
per = lambda h: (h - empty) / members
print(f'empty node {empty/1e6:.1f} MB; bytes a member: seeded {per(seeded):.0f}, after round 1 {per(r1):.0f}, after round 2 {per(r2):.0f} '
      f'(round 2 adds {100 * (r2 - r1) / max(1, r1 - empty):.1f}% over round 1); total heap / members after round 2 {r2 / members:.0f}')
PY
echo "reports and heap dumps: $OUT"
