# Shared by the benchmark scripts (sourced, from the repository root): a fresh bench database, and a
# node started in the background that is stopped when the script exits.

NODE_DLL=${NODE_DLL:-src/Silo/bin/Release/net10.0/Orleans.Membership.Silo.dll} # another build's node for a pair

# build_release PROJECT...: Release builds, quietly.
build_release() {
  for project in "$@"; do dotnet build -c Release "$project" -v q --nologo >/dev/null; done
}

# field DIR EXPR [SCENARIO]: a Python expression over r, one scenario (default the first) of DIR/report.json.
field() { python3 -c "import json; r=json.load(open('$1/report.json'))['scenarios'][${3:-0}]; print($2)"; }

# fresh_database NAME: drops and recreates it; prints its connection string. The drop closes whatever is
# still connected (a node of an earlier run): a measurement on last run's rows is not a measurement.
fresh_database() {
  bash scripts/postgres-up.sh postgres >/dev/null # the server running (installed if missing), nothing created
  runuser -u postgres -- psql -qtA -v ON_ERROR_STOP=1 -c "drop database if exists $1 with (force)" >/dev/null 2>&1 \
    || { echo "could not drop database $1" >&2; return 1; }
  bash scripts/postgres-up.sh "$1" | tail -n 1
}

# start_node LOG URL [node arguments...]: NODE is its pid; returns when /healthz answers. NODE_ENV may
# hold VAR=value settings for the node's environment.
start_node() {
  local log=$1 url=$2
  shift 2
  # Another node still on this address would answer for the new one, and the measurement would be its.
  if curl -fs "$url/healthz" >/dev/null 2>&1; then
    echo "something already answers on $url: stop it first" >&2
    return 1
  fi
  # An empty connection string is what a failed fresh_database inside "$(...)" leaves: an embedded node.
  local arg
  for arg in "$@"; do
    [ "$arg" = "--ConnectionStrings:Membership=" ] && { echo "no database for the node (see fresh_database's error above)" >&2; return 1; }
  done
  # shellcheck disable=SC2086
  env ${NODE_ENV:-} dotnet "$NODE_DLL" --urls "$url" "$@" >"$log" 2>&1 &
  NODE=$!
  trap stop_node EXIT
  for _ in $(seq 1 60); do
    kill -0 "$NODE" 2>/dev/null || { echo "the node exited at start (its log: $log)" >&2; return 1; }
    curl -fs "$url/healthz" >/dev/null && return 0
    sleep 1
  done
  echo "the node did not answer on $url (its log: $log)" >&2
  return 1
}

# stop_node: stops the node of the last start_node and waits until it is gone (a node still draining a
# backlog would otherwise take CPU from the next measurement): 15 s to shut down, then killed.
stop_node() {
  [ -n "${NODE:-}" ] || return 0
  kill "$NODE" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$NODE" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$NODE" 2>/dev/null || true
  wait "$NODE" 2>/dev/null || true
  NODE=
}
