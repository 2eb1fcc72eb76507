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
source tests/Jobs.Sdk.Benchmarks/aot-first-job-start.sh
schema="aot_seg_$$_$RANDOM"
aot_start "$BIN" "$schema" "q-$schema"
ms=$AOT_MS; t0=$AOT_T0
psql -Atc "SELECT '$LABEL', $ms,
  round(((extract(epoch FROM min(applied_at)) - $t0) * 1000)::numeric),
  round(((extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) - extract(epoch FROM min(applied_at))) * 1000)::numeric),
  round(($ms - (extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) - $t0) * 1000)::numeric)
  FROM \"$schema\".schema_migrations" | tr '|' ' '
psql -qc "DROP SCHEMA \"$schema\" CASCADE" >/dev/null 2>&1
