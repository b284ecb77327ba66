#!/usr/bin/env bash
# Installs PostgreSQL if missing, starts it on 127.0.0.1, creates the role and the database, and prints
# the connection string as its last line. Idempotent. Usage: scripts/postgres-up.sh [database]
set -euo pipefail
DB="${1:-${MEMBERSHIP_DB:-membership}}"
ROLE=membership
PASSWORD=membership
PORT="${MEMBERSHIP_PG_PORT:-5432}"

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "installing PostgreSQL..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION main"; then
  pg_createcluster "$VERSION" main -p "$PORT" >/dev/null
fi
CONF="/etc/postgresql/$VERSION/main/postgresql.conf"
# Loopback only; enough connections for a few silos and the tests.
sed -i -E "s/^#?listen_addresses.*/listen_addresses = '127.0.0.1'/; s/^#?max_connections.*/max_connections = 200/" "$CONF"
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$VERSION" main start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { echo "PostgreSQL did not become ready on 127.0.0.1:$PORT" >&2; exit 1; }

psql_admin() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -p "$PORT" -qtA "$@"; }
if [ "$(psql_admin -c "select 1 from pg_roles where rolname = '$ROLE'")" != "1" ]; then
  psql_admin -c "create role $ROLE login password '$PASSWORD'" >/dev/null
fi
if [ "$(psql_admin -c "select 1 from pg_database where datname = '$DB'")" != "1" ]; then
  psql_admin -c "create database \"$DB\" owner $ROLE" >/dev/null
fi
# Loopback only, so no TLS: it would cost CPU on every round trip and protect nothing.
echo "Host=127.0.0.1;Port=$PORT;Database=$DB;Username=$ROLE;Password=$PASSWORD;SslMode=Disable"
