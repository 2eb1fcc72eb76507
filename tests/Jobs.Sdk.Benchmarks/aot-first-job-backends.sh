#!/usr/bin/env bash
# One start of the published AOT worker sample with the gate's settings: time to its first completed job, and how many
# backends the server started for it before then (README: "Start-up: the first rescue waits for the first claim").
#
#   tests/Jobs.Sdk.Benchmarks/aot-first-job-backends.sh BINARY LABEL fresh|current SERVER_LOG
#
# prints "LABEL first_job_ms backends_before_first_job". fresh: a new schema (the migrations run first, as in CI);
# current: one schema migrated by an earlier start. SERVER_LOG: the server's log, with log_connections = on and
# log_line_prefix = '%m [%p] ' (use a private cluster). PGHOST/PGPORT/PGUSER/PGDATABASE select the server.
set -uo pipefail
BIN=$1; LABEL=$2; MODE=$3; SERVER_LOG=$4
cd "$(dirname "$0")/../.."
source tests/Jobs.Sdk.Benchmarks/aot-first-job-start.sh
if [ "$MODE" = fresh ]; then schema="aot_bk_$$_$RANDOM"; else schema="aot_bk_current"; fi
offset=$(stat -c %s "$SERVER_LOG")
aot_start "$BIN" "$schema" "q-$$-$RANDOM"
ms=$AOT_MS; t0=$AOT_T0
# Backends the server forked between the process start and its first completed job ("connection received" lines).
backends=$(tail -c +$((offset + 1)) "$SERVER_LOG" | python3 -c '
import sys, datetime
t0, ms = float(sys.argv[1]), float(sys.argv[2])
n = 0
for line in sys.stdin:
    if "connection received" not in line:
        continue
    stamp = datetime.datetime.strptime(" ".join(line.split()[:2]), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    if t0 <= stamp.timestamp() <= t0 + ms / 1000:
        n += 1
print(n)' "$t0" "${ms:-0}")
echo "$LABEL ${ms:-?} $backends"
[ "$MODE" = fresh ] && psql -qc "DROP SCHEMA \"$schema\" CASCADE" >/dev/null 2>&1
