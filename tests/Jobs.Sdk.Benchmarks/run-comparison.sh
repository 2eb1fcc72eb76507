#!/usr/bin/env bash
# Runs the end-to-end benchmark for Jobs.Sdk and for graphile-worker 0.18 (the peer) against the same throwaway
# PostgreSQL 15 cluster, in the same run, and prints a markdown table (see README.md next to this script).
#
#   tests/Jobs.Sdk.Benchmarks/run-comparison.sh [--repeat R]
#
# --repeat R (or BENCH_REPEAT=R) runs every cell R times (systems interleaved) and reports the median with the spread
# (min–max) of the R runs.
#
# Environment (all optional):
#   BENCH_JOBS=20000         N for enqueue, enqueue_batch and the drain rows
#   BENCH_CONCURRENCY=16     C for the headline rows
#   BENCH_DRAIN_C="1 4 16 64" concurrency sweep of the drain table
#   BENCH_PROCESSES="1 2 4"  worker processes of the multi-process drain rows (C=BENCH_CONCURRENCY each); "" skips
#   BENCH_HISTORY=100000     retained finished rows for the drain-with-history row; 0 skips
#   BENCH_PREFETCH=500       JobWorkerOptions.Prefetch of the "drain with Prefetch" rows (graphile's localQueue.size is 500)
#   BENCH_POLL_MS=200        poll interval of the poll-only latency row
#   BENCH_RSS=0              1 adds a 1,000,000-job drain with --report-rss (RSS at 10k, 100k and 1M jobs; slow)
#   BENCH_MILLION=1          Jobs.Sdk's million-row rows: drain of N due jobs in a queue that also holds 1,000,000 jobs
#                            delayed by a day at a higher priority and 1,000,000 retained finished rows; an idle worker's
#                            server CPU and GetCountsAsync over that table (BENCH_MILLION_ROWS sets the 1,000,000; 0 skips)
#   BENCH_PUSHERS=16         concurrent single pushers of the enqueue_concurrent row ("" skips)
#   BENCH_PUSH_RATE=800      the same pushers capped at this many pushes/s in all, for every system (wake-up under equal
#                            offered load; below graphile-worker's uncapped rate on the reference machine); "" skips
#   BENCH_PUSHER_WARMUP=0    rounds of BENCH_PUSHERS concurrent pushers x 10 jobs, drained, before the measured pushes of
#                            both enqueue_concurrent rows, for every system (the pools' connections for the pushers and
#                            their first statements then come up before the window; see README, "Notification stalls")
#   BENCH_REPEAT=1           runs per cell; the median (by the cell's figure) and the spread are reported
#   BENCH_FAST=0             1 runs the server with fsync=off, synchronous_commit=off, full_page_writes=off (test-server figures)
#   BENCH_CONNECTION=...     use this server (npgsql connection string) instead of starting one
#   BENCH_SYSTEMS="jobs-sdk graphile graphile-defaults"  which systems to run
#   BENCH_PEER_WARMUP_ROUNDS=10  graphile-worker's drain warm-up rounds of 200 jobs (Jobs.Sdk's drain warms up until
#                            its JIT is quiet: 8-30 rounds of 200; see README, "Method")
#   BENCH_OUT=path           also write the table (markdown) and raw JSON lines (path.jsonl) there
#   BENCH_TABLE_FROM=file    only print the table from an earlier run's JSON lines (BENCH_OUT's path.jsonl)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

REPEAT=${BENCH_REPEAT:-1}
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) REPEAT=$2; shift 2 ;;
    *) echo "usage: $0 [--repeat R]" >&2; exit 2 ;;
  esac
done
N=${BENCH_JOBS:-20000}
C=${BENCH_CONCURRENCY:-16}
DRAIN_C=${BENCH_DRAIN_C:-1 4 16 64}
PROCS=${BENCH_PROCESSES-1 2 4}
HISTORY=${BENCH_HISTORY:-100000}
POLL_MS=${BENCH_POLL_MS:-200}
PREFETCH=${BENCH_PREFETCH:-500}
MILLION=${BENCH_MILLION:-1}
MILLION_ROWS=${BENCH_MILLION_ROWS:-1000000}
PUSHERS=${BENCH_PUSHERS-16}
PUSH_RATE=${BENCH_PUSH_RATE-800}
PUSHER_WARMUP=${BENCH_PUSHER_WARMUP:-0}
PUSHER_WARMUP_ARGS=(); [ "$PUSHER_WARMUP" -gt 0 ] && PUSHER_WARMUP_ARGS=(--pusher-warmup "$PUSHER_WARMUP")
FAST=${BENCH_FAST:-0}
SYSTEMS=${BENCH_SYSTEMS:-jobs-sdk graphile graphile-defaults}
PEER_WARMUP_ROUNDS=${BENCH_PEER_WARMUP_ROUNDS:-10}
WORK=$(mktemp -d /tmp/jobs-sdk-bench.XXXXXX)
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
TABLE_ONLY=0
if [ -n "${BENCH_TABLE_FROM:-}" ]; then
  cp "$BENCH_TABLE_FROM" "$RESULTS"
  TABLE_ONLY=1
fi
log() { echo "[run-comparison] $*" >&2; }

# ---------------------------------------------------------------- PostgreSQL
STARTED_PG=0
cleanup() { if [ "$STARTED_PG" = 1 ]; then stop_postgres; fi; rm -rf "$WORK"; }
trap cleanup EXIT
if [ "$TABLE_ONLY" = 1 ]; then
  SERVER_NOTE="table from $BENCH_TABLE_FROM"
elif [ -n "${BENCH_CONNECTION:-}" ]; then
  CONN=$BENCH_CONNECTION
  SERVER_NOTE="existing server (settings as found)"
else
  . "$ROOT/.ci/postgres.sh"
  unset PGDATA PGROOT
  start_postgres || { log "could not start PostgreSQL"; exit 1; }
  STARTED_PG=1
  # pg_stat_statements: the server-side "exec time per job" proxy (both systems pay its small overhead).
  echo "shared_preload_libraries = 'pg_stat_statements'" >> "$PGDATA/postgresql.conf"
  if [ "$FAST" = 1 ]; then
    printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >> "$PGDATA/postgresql.conf"
  fi
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 restart >/dev/null
  psql_admin() { runuser -u postgres -- psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -qAt "$@"; }
  psql_admin -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null || log "pg_stat_statements unavailable (server exec time will be null)"
  if [ "$FAST" = 1 ]; then
    SERVER_NOTE="PostgreSQL 15, fast test server: fsync=off, synchronous_commit=off, full_page_writes=off"
  else
    SERVER_NOTE="PostgreSQL 15, durable defaults: fsync=on, synchronous_commit=on"
  fi
  SERVER_NOTE="$SERVER_NOTE, shared_buffers=256MB, max_connections=300, local TCP"
  CONN="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres"
fi
log "$SERVER_NOTE"

if [ "$TABLE_ONLY" = 0 ]; then # ------------------------------------ the runs (the whole block is parsed before it runs)
log "building tests/Jobs.Sdk.Benchmarks (Release)"
dotnet build -c Release tests/Jobs.Sdk.Benchmarks -v q -nologo >&2
PEER_DIR="$HERE/peers/graphile"
PEER_RUN="$PEER_DIR/.run"   # git-ignored: node_modules and a copy of the harness live here
if [[ " $SYSTEMS " == *" graphile"* ]]; then
  mkdir -p "$PEER_RUN"
  cp "$PEER_DIR/bench.mjs" "$PEER_DIR/package.json" "$PEER_RUN/"
  if [ ! -d "$PEER_RUN/node_modules/graphile-worker" ] || ! cmp -s "$PEER_DIR/package.json" "$PEER_RUN/.installed-package.json"; then
    log "npm install (graphile-worker 0.18) into $PEER_RUN"
    (cd "$PEER_RUN" && npm install --no-audit --no-fund --loglevel=error >&2)
    cp "$PEER_DIR/package.json" "$PEER_RUN/.installed-package.json"
  fi
  GRAPHILE_VERSION=$(node -p "require('$PEER_RUN/node_modules/graphile-worker/package.json').version")
fi

run_one() { # system label workload args...
  local system=$1 label=$2; shift 2
  local out rc=0
  case "$system" in
    jobs-sdk) out=$(dotnet run -c Release --no-build --project tests/Jobs.Sdk.Benchmarks -- "$@" --connection "$CONN" 2>"$WORK/last.err") || rc=$? ;;
    graphile) out=$(GRAPHILE_BATCHING=1 node "$PEER_RUN/bench.mjs" "$@" --warmup-rounds "$PEER_WARMUP_ROUNDS" --connection "$CONN" 2>"$WORK/last.err") || rc=$? ;;
    graphile-defaults) out=$(GRAPHILE_BATCHING=0 node "$PEER_RUN/bench.mjs" "$@" --warmup-rounds "$PEER_WARMUP_ROUNDS" --connection "$CONN" 2>"$WORK/last.err") || rc=$? ;;
  esac
  out=$(printf '%s\n' "$out" | grep '^{' | tail -n 1 || true)
  if [ "$rc" -ne 0 ] || [ -z "$out" ]; then
    log "FAILED ($system $label, exit $rc):"; tail -n 20 "$WORK/last.err" >&2
    out='{"failed":true}'
  fi
  log "$system $label: $out"
  printf '{"system":"%s","label":"%s","exit":%d,"result":%s}\n' "$system" "$label" "$rc" "$out" >> "$RESULTS"
  if [ -n "${BENCH_OUT:-}" ]; then cp "$RESULTS" "$BENCH_OUT.jsonl"; fi
}

cell() { # label args... (every system, REPEAT times)
  local label=$1; shift
  for r in $(seq "$REPEAT"); do
    for s in $SYSTEMS; do run_one "$s" "$label" "$@"; done
  done
}

cell "enqueue" --workload enqueue --jobs "$N" --concurrency "$C"
cell "enqueue_batch" --workload enqueue_batch --jobs "$N" --concurrency "$C"
cell "drain" --workload drain --jobs "$N" --concurrency "$C"
cell "latency" --workload latency --jobs 300 --concurrency "$C"
for r in $(seq "$REPEAT"); do
  [[ " $SYSTEMS " == *" jobs-sdk "* ]] && run_one jobs-sdk "latency_poll" --workload latency --jobs 300 --concurrency "$C" --poll-only --poll-interval-ms "$POLL_MS"
done
for r in $(seq "$REPEAT"); do
  [[ " $SYSTEMS " == *" jobs-sdk "* ]] && run_one jobs-sdk "drain_fast_commits" --workload drain --jobs "$N" --concurrency "$C" --fast-worker-commits
  [[ " $SYSTEMS " == *" jobs-sdk "* ]] && run_one jobs-sdk "drain_prefetch" --workload drain --jobs "$N" --concurrency "$C" --prefetch "$PREFETCH"
  [[ " $SYSTEMS " == *" jobs-sdk "* ]] && run_one jobs-sdk "drain_prefetch_fast" --workload drain --jobs "$N" --concurrency "$C" --prefetch "$PREFETCH" --fast-worker-commits
done
for c in $DRAIN_C; do cell "drain_c$c" --workload drain --jobs "$N" --concurrency "$c"; done
for p in $PROCS; do [ "$p" -gt 1 ] && cell "drain_p$p" --workload drain --jobs "$N" --concurrency "$C" --processes "$p"; done
[ "$HISTORY" -gt 0 ] && cell "drain_history" --workload drain --jobs "$N" --concurrency "$C" --retained-history "$HISTORY"
[ -n "$PUSHERS" ] && cell "enqueue_concurrent" --workload enqueue_concurrent --jobs "$N" --concurrency "$C" --pushers "$PUSHERS" "${PUSHER_WARMUP_ARGS[@]}"
[ -n "$PUSHERS" ] && [ -n "$PUSH_RATE" ] && cell "enqueue_concurrent_rate" --workload enqueue_concurrent --jobs "$N" --concurrency "$C" --pushers "$PUSHERS" --push-rate "$PUSH_RATE" "${PUSHER_WARMUP_ARGS[@]}"
if [ "$MILLION" = 1 ] && [ "$MILLION_ROWS" -gt 0 ] && [[ " $SYSTEMS " == *" jobs-sdk "* ]]; then
  for r in $(seq "$REPEAT"); do
    run_one jobs-sdk "drain_million" --workload drain --jobs "$N" --concurrency "$C" --delayed "$MILLION_ROWS" --retained-history "$MILLION_ROWS"
    run_one jobs-sdk "idle_million" --workload idle --concurrency "$C" --delayed "$MILLION_ROWS" --retained-history "$MILLION_ROWS" --seconds 10
  done
fi
[ "${BENCH_RSS:-0}" = 1 ] && cell "drain_rss" --workload drain --jobs 1000000 --concurrency "$C" --report-rss
fi

# ---------------------------------------------------------------- table
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)
META="$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average at end $(cut -d' ' -f1-3 /proc/loadavg); $SERVER_NOTE; .NET $(dotnet --version); node $(node --version 2>/dev/null || echo -), graphile-worker ${GRAPHILE_VERSION:-n/a}; N=$N, C=$C, runs per cell $REPEAT (median)"
TABLE=$(python3 - "$RESULTS" "$META" "$N" "$C" "$POLL_MS" "$HISTORY" "$PREFETCH" "$MILLION_ROWS" "$PUSHERS" "$PUSH_RATE" <<'PY'
import json, sys, statistics
path, meta, n, c, poll_ms, history, prefetch, million, pushers, push_rate = sys.argv[1:11]
rows = [json.loads(l) for l in open(path) if l.strip()]
systems = [s for s in ["jobs-sdk", "graphile", "graphile-defaults"] if any(r["system"] == s for r in rows)]
names = {"jobs-sdk": "Jobs.Sdk", "graphile": "graphile-worker (batched)", "graphile-defaults": "graphile-worker (defaults)"}

def pick(system, label, key):
    vals = [r["result"] for r in rows if r["system"] == system and r["label"] == label]
    if not vals: return None
    if any(v.get("failed") for v in vals) or any(r["exit"] for r in rows if r["system"] == system and r["label"] == label):
        return "FAILED"
    xs = [v.get(key) for v in vals if v.get(key) is not None]
    return Med(statistics.median(xs), min(xs), max(xs), len(xs)) if xs else None

class Med(float):
    """A median that remembers the spread (min, max) of the runs it came from."""
    def __new__(cls, v, lo, hi, k):
        m = super().__new__(cls, v); m.lo, m.hi, m.k = lo, hi, k; return m

def num(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}".rstrip("0").rstrip(".")

def fmt(v, unit=""):
    if v is None: return "–"
    if v == "FAILED": return "**FAILED**"
    spread = f" ({num(v.lo)}–{num(v.hi)})" if isinstance(v, Med) and v.k > 1 else ""
    return num(v) + unit + spread

def ratio(a, b, higher_better=True):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not a or not b: return "–"
    return f"{(a / b if higher_better else b / a):.2f}×"

out = [f"_{meta}_", ""]
hdr = "| workload | " + " | ".join(names[s] for s in systems) + (" | Jobs.Sdk vs batched | Jobs.Sdk vs defaults |" if "jobs-sdk" in systems else " |")
out += [hdr, "|" + "---|" * (hdr.count("|") - 1)]
def add(title, label, key, unit, higher_better=True, ref=None):
    # ref: a Jobs.Sdk-only row (opt-in settings) is compared with the peers' figures of row `ref`.
    vals = {s: pick(s, label, key) for s in systems}
    if all(v is None for v in vals.values()): return
    peers = {s: pick(s, ref, key) for s in systems} if ref else vals
    line = f"| {title} | " + " | ".join(fmt(vals[s], unit) for s in systems)
    if "jobs-sdk" in systems:
        line += " | " + " | ".join(ratio(vals["jobs-sdk"], peers.get(o), higher_better) if o in systems else "–" for o in ["graphile", "graphile-defaults"])
    out.append(line + " |")
add(f"enqueue, one at a time (jobs/s, N={n})", "enqueue", "jobs_per_sec", "")
add(f"enqueue_batch (jobs/s, N={n})", "enqueue_batch", "jobs_per_sec", "")
add(f"drain (jobs/s, N={n}, C={c})", "drain", "jobs_per_sec", "")
add(f"drain, Jobs.Sdk with FastWorkerCommits (jobs/s, C={c})", "drain_fast_commits", "jobs_per_sec", "", ref="drain")
add(f"drain, Jobs.Sdk with Prefetch={prefetch} (jobs/s, C={c})", "drain_prefetch", "jobs_per_sec", "", ref="drain")
add(f"drain, Jobs.Sdk with Prefetch={prefetch} + FastWorkerCommits (jobs/s, C={c})", "drain_prefetch_fast", "jobs_per_sec", "", ref="drain")
add("latency p50 (ms, LISTEN/NOTIFY)", "latency", "p50_ms", " ms", False)
add("latency p99 (ms, LISTEN/NOTIFY)", "latency", "p99_ms", " ms", False)
add(f"latency p50, poll-only (ms, poll {poll_ms} ms)", "latency_poll", "p50_ms", " ms", False)
add(f"latency p99, poll-only (ms, poll {poll_ms} ms)", "latency_poll", "p99_ms", " ms", False)
import re
def numbered(prefix):
    found = {int(m.group(1)): l for l in {r["label"] for r in rows} if (m := re.fullmatch(prefix + r"(\d+)", l))}
    return [(k, found[k]) for k in sorted(found)]
for k, label in numbered("drain_c"):
    add(f"drain, C={k} (jobs/s)", label, "jobs_per_sec", "")
for k, label in numbered("drain_p"):
    add(f"drain, {k} processes × C={c} (jobs/s)", label, "jobs_per_sec", "")
add(f"drain with {int(history):,} finished rows retained (jobs/s)", "drain_history", "jobs_per_sec", "")
add(f"drain C={c}: client CPU per job (µs)", "drain", "client_cpu_us_per_job", " µs", False)
add(f"drain C={c}: server CPU per job (µs, /proc)", "drain", "server_cpu_us_per_job", " µs", False)
add(f"drain C={c}: server exec time per job (µs, pg_stat_statements)", "drain", "server_exec_us_per_job", " µs", False)
for k, label in numbered("drain_p"):
    add(f"drain, {k} processes: client CPU per job (µs)", label, "client_cpu_us_per_job", " µs", False)
    add(f"drain, {k} processes: server CPU per job (µs, /proc)", label, "server_cpu_us_per_job", " µs", False)
add(f"{pushers} concurrent single pushers (pushes/s, one commit each)", "enqueue_concurrent", "jobs_per_sec", "")
add(f"{pushers} concurrent single pushers: worker wake-up p50 (ms after the push returned)", "enqueue_concurrent", "p50_ms", " ms", False)
add(f"{pushers} concurrent single pushers: worker wake-up p99 (ms after the push returned)", "enqueue_concurrent", "p99_ms", " ms", False)
if push_rate:
    r = f"{int(push_rate):,}"
    add(f"{pushers} pushers capped at {r} pushes/s in all (pushes/s achieved)", "enqueue_concurrent_rate", "jobs_per_sec", "")
    add(f"{pushers} pushers capped at {r} pushes/s: worker wake-up p50 (ms after the push returned)", "enqueue_concurrent_rate", "p50_ms", " ms", False)
    add(f"{pushers} pushers capped at {r} pushes/s: worker wake-up p99 (ms after the push returned)", "enqueue_concurrent_rate", "p99_ms", " ms", False)
m = f"{int(million):,}"
add(f"drain of N={n} with {m} delayed + {m} finished rows in the queue (jobs/s)", "drain_million", "jobs_per_sec", "")
if "jobs-sdk" in systems:
    a, b = pick("jobs-sdk", "drain_million", "jobs_per_sec"), pick("jobs-sdk", "drain", "jobs_per_sec")
    if isinstance(a, float) and isinstance(b, float) and b:
        out.append(f"| … relative to Jobs.Sdk's drain of an empty table (target ≥ 0.8×) | {a / b:.2f}× |" + " – |" * (len(systems) - 1) + " – | – |")
add(f"idle worker over that table: PostgreSQL CPU (% of one core, /proc)", "idle_million", "idle_worker_server_cpu_pct", " %", False)
add(f"idle worker over that table: statement exec time (% of one core, pg_stat_statements)", "idle_million", "idle_worker_server_exec_pct", " %", False)
add(f"GetCountsAsync over that table (ms)", "idle_million", "counts_ms", " ms", False)
add("drain 1M: RSS at 10k jobs (MB)", "drain_rss", "rss_mb_10k", " MB", False)
add("drain 1M: RSS at 100k jobs (MB)", "drain_rss", "rss_mb_100k", " MB", False)
add("drain 1M: RSS at 1M jobs (MB)", "drain_rss", "rss_mb_1m", " MB", False)
out += ["", "Ratios: > 1× means Jobs.Sdk is better (more jobs/s, or lower latency or CPU). Jobs.Sdk-only rows (opt-in settings) are compared with the peers' headline drain row; "
        "the \"relative to Jobs.Sdk's drain of an empty table\" row compares Jobs.Sdk with itself.",
        "Cells: median of the runs, (min–max) when there were several. Server CPU: user + system time of every PostgreSQL process from /proc; "
        "exec time: pg_stat_statements total_exec_time (statement execution only)."]
print("\n".join(out))
PY
)
echo "$TABLE"
if [ -n "${BENCH_OUT:-}" ]; then
  printf '%s\n' "$TABLE" > "$BENCH_OUT"
  [ "$TABLE_ONLY" = 1 ] || cp "$RESULTS" "$BENCH_OUT.jsonl"
  log "wrote $BENCH_OUT and $BENCH_OUT.jsonl"
fi
