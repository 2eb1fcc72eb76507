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
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-postgres}
if [ "$MODE" = fresh ]; then schema="aot_bk_$$_$RANDOM"; else schema="aot_bk_current"; fi
export ConnectionStrings__Jobs="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Database=$PGDATABASE"
export Jobs__Concurrency=16 Jobs__PollIntervalMs=200 Jobs__QueueName="q-$$-$RANDOM" Jobs__Schema=$schema
log=$(mktemp); start=$(mktemp)
offset=$(stat -c %s "$SERVER_LOG")
bash -c 'date +%s.%N > "$0"; exec "$1" --push 200' "$start" "$BIN" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do sleep 0.1; grep -q "first job completed" "$log" && break; done
kill -TERM "$pid"; wait "$pid"
ms=$(grep -oE "first job completed \([a-z-]+\) [0-9]+ ms" "$log" | grep -oE "[0-9]+ ms" | head -n 1 | cut -d' ' -f1)
t0=$(cat "$start")
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
rm -f "$log" "$start"
