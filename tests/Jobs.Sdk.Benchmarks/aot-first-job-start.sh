# Sourced by the aot-first-job*.sh scripts: one start of the published AOT worker sample with .ci/aot-gate's settings.
# PGHOST/PGPORT/PGUSER/PGDATABASE select the server (default 127.0.0.1:5432).
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-postgres}
export ConnectionStrings__Jobs="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Database=$PGDATABASE"
export Jobs__Concurrency=16 Jobs__PollIntervalMs=200

# aot_start BINARY SCHEMA QUEUE: starts BINARY --push 200 on SCHEMA and QUEUE, stops it once its first job completed
# (10 s at most), and sets AOT_MS (the sample's "first job completed … ms after process start", empty when none) and
# AOT_T0 (the process start, epoch seconds, taken just before exec).
aot_start() {
  local log start pid
  log=$(mktemp); start=$(mktemp)
  Jobs__Schema=$2 Jobs__QueueName=$3 bash -c 'date +%s.%N > "$0"; exec "$1" --push 200' "$start" "$1" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do sleep 0.1; grep -q "first job completed" "$log" && break; done
  kill -TERM "$pid"; wait "$pid"
  AOT_MS=$(grep -oE "first job completed \([a-z-]+\) [0-9]+ ms" "$log" | grep -oE "[0-9]+ ms" | head -n 1 | cut -d' ' -f1)
  AOT_T0=$(cat "$start")
  rm -f "$log" "$start"
}
