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
source tests/Jobs.Sdk.Benchmarks/aot-first-job-start.sh
for i in $(seq 1 "$RUNS"); do
  if [ "$MODE" = fresh ]; then schema="aot_first_$$_$i"; else schema="aot_first_current"; fi
  aot_start "$BIN" "$schema" "first-$$-$i"
  [ -n "$AOT_MS" ] && echo "$AOT_MS ms"
  [ "$MODE" = fresh ] && psql -qc "DROP SCHEMA \"$schema\" CASCADE" >/dev/null 2>&1
done
