#!/usr/bin/env bash
# The node's garbage collector during ingest, traced: load-tests/mixed-gc.sh as it is (the same settings:
# FESTIVAL_RATE, CHECKOUT_RATE, BATCH, PREFILL, POSTGRES, NODE_DLL; arguments are the node's environment)
# with dotnet-trace attached to the node for the mixed scenario's 20 s, then tools/GcTrace's summary:
# pauses by generation and reason, suspending / collecting / resuming, heap 0's marking by kind of root,
# background collections. LEVEL=5 adds allocation samples by type; CPU=1 adds CPU samples (read them with
# GcTrace's --cpu). Installs dotnet-trace if missing.
# Usage: bash load-tests/gc-trace.sh [VAR=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
TRACE_TOOL="$HOME/.dotnet/tools/dotnet-trace"
if [ ! -x "$TRACE_TOOL" ]; then dotnet tool install -g dotnet-trace --version 10.0.750501 >/dev/null; fi
dotnet build -c Release tools/GcTrace -v q --nologo >/dev/null
export OUT="load-tests/results/gc-trace-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
bash load-tests/mixed-gc.sh "$@" >"$OUT/mixed-gc.txt" 2>&1 &
MIXED=$!
# mixed-gc.sh reads the node's diagnostics into before.json just before the mixed scenario starts.
for _ in $(seq 1 600); do
  [ -f "$OUT/before.json" ] && break
  kill -0 $MIXED 2>/dev/null || { cat "$OUT/mixed-gc.txt" >&2; exit 1; }
  sleep 0.2
done
[ -f "$OUT/before.json" ] || { echo "the mixed scenario did not start within 120 s" >&2; kill $MIXED; exit 1; }
NODE_PID=$(pgrep -f "Orleans.Membership.Silo.dll --urls http://127.0.0.1:5084" | head -n 1)
PROVIDERS="Microsoft-Windows-DotNETRuntime:0x1:${LEVEL:-4}"
if [ "${CPU:-0}" = 1 ]; then PROVIDERS="$PROVIDERS,Microsoft-DotNETCore-SampleProfiler"; fi
"$TRACE_TOOL" collect -p "$NODE_PID" --providers "$PROVIDERS" --duration 00:00:00:19 -o "$OUT/gc.nettrace" >"$OUT/dotnet-trace.txt" 2>&1
wait $MIXED
tail -n 1 "$OUT/mixed-gc.txt"
dotnet tools/GcTrace/bin/Release/net10.0/Orleans.Membership.GcTrace.dll "$OUT/gc.nettrace" | tee "$OUT/summary.txt"
