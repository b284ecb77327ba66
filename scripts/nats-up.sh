#!/usr/bin/env bash
# Installs nats-server if missing, starts it on 127.0.0.1 with JetStream and a file store, creates the
# streams the engine consumes and dead-letters into (docs/streams.md), and prints the server URL as its
# last line. Idempotent: a server already answering on the port is kept, existing streams are left as
# they are. Usage: scripts/nats-up.sh [--fresh STREAM...]
#   --fresh STREAM...         deletes these streams first (a benchmark's own, so each run starts empty)
#   MEMBERSHIP_NATS_PORT      client port (default 4222)
#   MEMBERSHIP_NATS_DIR       its config, log, pid and JetStream store (default /var/lib/membership-nats)
#   MEMBERSHIP_NATS_MAX_BYTES the events stream's size limit in bytes (default 8 GiB; publishes beyond it are refused)
set -euo pipefail
PORT="${MEMBERSHIP_NATS_PORT:-4222}"
DIR="${MEMBERSHIP_NATS_DIR:-/var/lib/membership-nats}"
MAX_BYTES="${MEMBERSHIP_NATS_MAX_BYTES:-8589934592}"
URL="nats://127.0.0.1:$PORT"

if ! command -v nats-server >/dev/null 2>&1; then
  echo "installing nats-server..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi

# Answers with its INFO line when a NATS server listens on the port.
answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && IFS= read -r -t 1 line <&3 && [[ \$line == INFO* ]]" 2>/dev/null; }

if ! answers; then
  mkdir -p "$DIR/store"
  cat >"$DIR/nats-server-$PORT.conf" <<EOF
# Written by scripts/nats-up.sh: loopback only, JetStream on a file store of its own.
listen: 127.0.0.1:$PORT
server_name: membership-$PORT
pid_file: "$DIR/nats-server-$PORT.pid"
jetstream {
  store_dir: "$DIR/store/$PORT"
}
EOF
  setsid nohup nats-server -c "$DIR/nats-server-$PORT.conf" >>"$DIR/nats-server-$PORT.log" 2>&1 < /dev/null &
  for _ in $(seq 1 50); do answers && break; sleep 0.2; done
  answers || { echo "nats-server did not start on 127.0.0.1:$PORT (its log: $DIR/nats-server-$PORT.log)" >&2; exit 1; }
fi

# nats_request SUBJECT PAYLOAD: one request over the NATS protocol itself (Debian has no nats CLI); prints the reply.
nats_request() {
  local inbox="_INBOX.nats_up_$$" line body
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  IFS= read -r -t 5 line <&3
  printf 'CONNECT {"verbose":false,"pedantic":false}\r\nSUB %s 1\r\nPUB %s %s %d\r\n%s\r\n' "$inbox" "$1" "$inbox" "${#2}" "$2" >&3
  while IFS= read -r -t 10 line <&3; do
    line="${line%$'\r'}"
    case "$line" in
      MSG*) IFS= read -r -t 5 body <&3; echo "${body%$'\r'}"; break ;;
      PING) printf 'PONG\r\n' >&3 ;;
      -ERR*) echo "$line" >&2; break ;;
    esac
  done
  exec 3<&- 3>&-
}

# create_stream NAME CONFIG: creates it unless it exists (an existing stream keeps the operator's settings).
create_stream() {
  local info reply
  info="$(nats_request "\$JS.API.STREAM.INFO.$1" "")"
  if [[ "$info" == *'"config"'* ]]; then return 0; fi
  reply="$(nats_request "\$JS.API.STREAM.CREATE.$1" "$2")"
  if [[ "$reply" != *'"config"'* ]]; then echo "creating stream $1 failed: $reply" >&2; exit 1; fi
}

if [ "${1:-}" = --fresh ]; then
  shift
  for stream in "$@"; do nats_request "\$JS.API.STREAM.DELETE.$stream" "" >/dev/null; done
fi

# Keep these in step with src/Silo/Nats/NatsTopology.cs (the engine creates the same ones when missing).
# Events: a work queue (an event leaves the broker once applied), refusing publishes when full rather than
# dropping events not applied yet; duplicate publishes (same Nats-Msg-Id) within 2 minutes are stored once.
create_stream MEMBERSHIP_EVENTS "{\"name\":\"MEMBERSHIP_EVENTS\",\"subjects\":[\"membership.events.>\"],\"retention\":\"workqueue\",\"storage\":\"file\",\"discard\":\"new\",\"max_bytes\":$MAX_BYTES,\"max_msgs\":-1,\"max_age\":0,\"duplicate_window\":120000000000,\"num_replicas\":1}"
# Dead letters: kept 30 days for an operator to read and replay.
create_stream MEMBERSHIP_DEADLETTERS '{"name":"MEMBERSHIP_DEADLETTERS","subjects":["membership.deadletter.>"],"retention":"limits","storage":"file","discard":"old","max_bytes":-1,"max_msgs":-1,"max_age":2592000000000000,"duplicate_window":120000000000,"num_replicas":1}'

echo "$URL"
