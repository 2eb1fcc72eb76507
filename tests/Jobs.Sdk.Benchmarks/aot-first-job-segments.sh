#!/usr/bin/env bash
# The AOT worker's first start on a fresh schema, split in three (README: "AOT first start on a fresh schema"):
#
#   tests/Jobs.Sdk.Benchmarks/aot-first-job-segments.sh BINARY LABEL
#
# prints "LABEL total pre ddl post" in ms: total = the sample's "first job completed … ms after process start"; pre =
# process start -> start of the migration transaction; ddl = that transaction's commit - its start; post = total - (commit
# - process start). Needs track_commit_timestamp = on on the server (a restart; use a private cluster). Gate settings;
# PGHOST/PGPORT/PGUSER/PGDATABASE select the server (default 127.0.0.1:5432).
set -uo pipefail
BIN=$1; LABEL=$2
cd "$(dirname "$0")/../.."
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-postgres}
schema="aot_seg_$$_$RANDOM"
export ConnectionStrings__Jobs="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Database=$PGDATABASE"
export Jobs__Concurrency=16 Jobs__PollIntervalMs=200 Jobs__QueueName="q-$schema" Jobs__Schema=$schema
log=$(mktemp); start=$(mktemp)
bash -c 'date +%s.%N > "$0"; exec "$1" --push 200' "$start" "$BIN" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do sleep 0.1; grep -q "first job completed" "$log" && break; done
kill -TERM "$pid"; wait "$pid"
ms=$(grep -oE "first job completed \([a-z-]+\) [0-9]+ ms" "$log" | grep -oE "[0-9]+ ms" | head -n 1 | cut -d' ' -f1)
t0=$(cat "$start")
psql -Atc "SELECT '$LABEL', $ms,
  round(((extract(epoch FROM min(applied_at)) - $t0) * 1000)::numeric),
  round(((extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) - extract(epoch FROM min(applied_at))) * 1000)::numeric),
  round(($ms - (extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) - $t0) * 1000)::numeric)
  FROM \"$schema\".schema_migrations" | tr '|' ' '
psql -qc "DROP SCHEMA \"$schema\" CASCADE" >/dev/null 2>&1
rm -f "$log" "$start"
