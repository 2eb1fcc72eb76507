#!/usr/bin/env bash
# Time to the first completed job of the published AOT worker sample, as .ci/aot-gate measures it, over several starts.
#
#   tests/Jobs.Sdk.Benchmarks/aot-first-job.sh BINARY RUNS fresh|current
#
# BINARY: the published samples/Jobs.Sdk.Samples.AotWorker binary. fresh: every start gets a new schema (the migrations
# run first, as in CI); current: every start uses one schema already migrated by the first. Runs from the repo root
# (as the gate does) with the gate's settings; PGHOST/PGPORT/PGUSER/PGDATABASE select the server (default 127.0.0.1:5432).
set -uo pipefail
BIN=$1; RUNS=$2; MODE=$3
cd "$(dirname "$0")/../.."
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-postgres}
export ConnectionStrings__Jobs="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Database=$PGDATABASE"
export Jobs__Concurrency=16 Jobs__PollIntervalMs=200
for i in $(seq 1 "$RUNS"); do
  if [ "$MODE" = fresh ]; then schema="aot_first_$$_$i"; else schema="aot_first_current"; fi
  export Jobs__QueueName="first-$$-$i" Jobs__Schema=$schema
  log=$(mktemp)
  "$BIN" --push 200 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do sleep 0.1; grep -q "first job completed" "$log" && break; done
  kill -TERM "$pid"; wait "$pid"
  grep -oE "first job completed \([a-z-]+\) [0-9]+ ms" "$log" | grep -oE "[0-9]+ ms" | head -n 1
  rm -f "$log"
  [ "$MODE" = fresh ] && psql -qc "DROP SCHEMA \"$schema\" CASCADE" >/dev/null 2>&1
done
