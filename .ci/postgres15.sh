#!/usr/bin/env bash
# Runs the given command with DATABASE_URL pointing at a throwaway PostgreSQL 15 server
# (Debian's postgresql-15 binaries, installed when missing).
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PG_BIN/postgres" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql-15 >/dev/null
fi
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres

dir=$(mktemp -d /tmp/vidstats-pg15.XXXXXX)
chown postgres "$dir"
chmod 755 "$dir"
port=55415
as_postgres() { runuser -u postgres -- "$@"; }
as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
trap 'as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null; rm -rf "$dir"' EXIT

echo "PostgreSQL 15 at $dir (port $port)"
DATABASE_URL="postgresql://postgres@/postgres?host=$dir&port=$port" "$@"
