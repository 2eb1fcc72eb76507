# Sourced by .ci scripts: start_postgres / stop_postgres for a throwaway local PostgreSQL 15 cluster.
# Sets PGPORT and PGDATA. Runs the server as user `postgres` on 127.0.0.1 with trust auth, data under a temp dir.

find_pg_bin() {
  local initdb
  initdb=$(dpkg -L postgresql-15 2>/dev/null | grep 'bin/initdb$' | head -n 1)
  [ -n "$initdb" ] || initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$initdb" ] && dirname "$initdb"
}

start_postgres() {
  PGBIN=$(find_pg_bin)
  if [ -z "$PGBIN" ]; then
    echo "PostgreSQL server binaries missing: installing postgresql-15"
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15) >/dev/null || return 1
    PGBIN=$(find_pg_bin)
    [ -n "$PGBIN" ] || return 1
  fi
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  PGROOT=$(mktemp -d /tmp/jobs-sdk-pg.XXXXXX)
  chown postgres "$PGROOT"
  PGDATA="$PGROOT/data"
  PGPORT=${PGPORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres --no-instructions >/dev/null || return 1
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGROOT/server.log" -w -t 60 \
    -o "-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB" start >/dev/null || { cat "$PGROOT/server.log"; return 1; }
  export PGBIN PGROOT PGDATA PGPORT
}

stop_postgres() {
  if [ -n "${PGDATA:-}" ] && [ -d "$PGDATA" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGROOT"
  fi
}
