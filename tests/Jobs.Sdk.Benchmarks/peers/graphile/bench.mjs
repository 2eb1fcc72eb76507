// End-to-end benchmark harness for graphile-worker (the peer of Jobs.Sdk's EndToEnd benchmark).
// Same command line and the same single JSON line on stdout as `dotnet run --project tests/Jobs.Sdk.Benchmarks`:
//   node bench.mjs --workload W --jobs N --concurrency C --connection "<npgsql or postgres:// connection string>"
//     [--processes P] [--retained-history R] [--poll-only] [--cold-latency] [--report-rss] [--poll-interval-ms MS] [--pushers P] [--push-rate R] [--pusher-warmup R] [--no-worker]
// Workloads: enqueue, enqueue_batch, drain, latency, enqueue_concurrent (P concurrent single pushers; wake-up latency of a
// worker draining them). Drains report CPU per job: client (this process, or the worker processes) and server (/proc).
// Logs go to stderr. Environment: BENCH_BATCH_SIZE (enqueue_batch, default 1000);
// GRAPHILE_BATCHING=1 (default) uses the documented batching options (localQueue.size 500, completeJobBatchDelay 0,
// failJobBatchDelay 0), GRAPHILE_BATCHING=0 runs graphile-worker with its defaults (one job per fetch and completion).
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync, rmSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { run, makeWorkerUtils, Logger } from "graphile-worker";

const TASK = "bench";
const WARMUP_JOBS = 200;
const LATENCY_JOBS = 300;
const LATENCY_SPACING_MS = 10;

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const o = { workload: null, jobs: null, concurrency: 16, connection: null, processes: 1, retainedHistory: 0,
    pollOnly: false, coldLatency: false, reportRss: false, worker: false, schema: null, results: null, pollIntervalMs: null, pushers: 16, pushRate: 0, noWorker: false,
    warmup: WARMUP_JOBS, warmupRounds: 1, pusherWarmup: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) fail(`missing value after ${a}`); return argv[++i]; };
    switch (a) {
      case "--workload": o.workload = next(); break;
      case "--jobs": o.jobs = int(next(), a); break;
      case "--concurrency": o.concurrency = int(next(), a); break;
      case "--connection": o.connection = next(); break;
      case "--processes": o.processes = int(next(), a); break;
      case "--retained-history": o.retainedHistory = int(next(), a); break;
      case "--poll-interval-ms": o.pollIntervalMs = int(next(), a); break;
      case "--poll-only": o.pollOnly = true; break;
      case "--cold-latency": o.coldLatency = true; break; // latency: warm up with 50 spaced jobs (as before), not 1,000
      case "--report-rss": o.reportRss = true; break;
      case "--explain": o.explain = true; break; // drain: the server profile per job, as Jobs.Sdk's --explain prints it
      case "--pushers": o.pushers = int(next(), a); break;
      case "--push-rate": o.pushRate = int(next(), a); break; // enqueue_concurrent: total pushes/s, open-loop schedule (0: as fast as possible)
      case "--no-worker": o.noWorker = true; break;
      case "--warmup": o.warmup = int(next(), a); break; // drain: warm-up jobs per round (default 200)
      case "--warmup-rounds": o.warmupRounds = int(next(), a); break; // drain: warm-up rounds, 250 ms apart (default 1)
      case "--pusher-warmup": o.pusherWarmup = int(next(), a); break; // enqueue_concurrent: rounds of P concurrent pushers x 10 jobs, drained, before the window (default 0)
      case "--worker": o.worker = true; break; // hidden: a child worker process of a multi-process drain
      case "--schema": o.schema = next(); break; // hidden
      case "--results": o.results = next(); break; // hidden
      default: fail(`unknown argument ${a}`);
    }
  }
  if (!o.connection) fail("--connection is required");
  if (!o.worker) {
    if (!["enqueue", "enqueue_batch", "drain", "latency", "enqueue_concurrent"].includes(o.workload)) fail("--workload must be enqueue, enqueue_batch, drain, latency or enqueue_concurrent");
    if (o.jobs == null || o.jobs < 1) fail("--jobs N (N >= 1) is required");
  }
  if (o.concurrency < 1 || o.processes < 1 || o.retainedHistory < 0 || o.warmup < 1 || o.warmupRounds < 1 || o.pusherWarmup < 0) fail("--concurrency, --processes, --warmup and --warmup-rounds must be >= 1, --retained-history and --pusher-warmup >= 0");
  return o;
}
function int(s, name) { const v = Number(s); if (!Number.isInteger(v)) fail(`${name} expects an integer, got '${s}'`); return v; }
function fail(msg) { console.error(`bench.mjs: ${msg}`); process.exit(2); }
const log = (...a) => console.error("[graphile]", ...a);

// Npgsql "Host=..;Port=..;Username=..;Password=..;Database=.." → postgres:// URL (URLs pass through).
function toPgUrl(cs) {
  if (/^postgres(ql)?:\/\//.test(cs)) return cs;
  const kv = {};
  for (const part of cs.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) kv[part.slice(0, i).trim().toLowerCase().replace(/\s+/g, "")] = part.slice(i + 1).trim();
  }
  const host = kv.host ?? kv.server ?? "127.0.0.1";
  const port = kv.port ?? "5432";
  const user = kv.username ?? kv.userid ?? kv.user ?? "postgres";
  const pass = kv.password ?? "";
  const db = kv.database ?? kv.db ?? "postgres";
  const auth = encodeURIComponent(user) + (pass ? ":" + encodeURIComponent(pass) : "");
  return `postgres://${auth}@${host}:${port}/${encodeURIComponent(db)}`;
}

const now = () => performance.now(); // ms, monotonic
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
const round2 = (x) => (x == null ? null : Math.round(x * 100) / 100);

// ---------------------------------------------------------------- CPU (same method as the .NET harness's CpuMeter)
// Client: process.cpuUsage() (user + system). Server: user + system ticks of the postmaster (with cutime/cstime, the
// children it reaped) and of every live child, from /proc; null when the server is not on this machine.
async function postmasterPid(client) {
  try {
    const r = await client.query("select split_part(pg_read_file('postmaster.pid'), chr(10), 1)::int as pid");
    const pid = r.rows[0].pid;
    readFileSync(`/proc/${pid}/stat`);
    return pid;
  } catch { return null; }
}
// Every process's CPU counters from /proc/<pid>/stat, in 10 ms ticks (one that exits while being read is left out).
function procStats() {
  const all = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, "utf8"); } catch { continue; }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    all.push({ pid: Number(name), ppid: Number(f[1]), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) });
  }
  return all;
}
function serverSeconds(pm) {
  if (pm == null) return null;
  let ticks = 0;
  for (const p of procStats()) {
    if (p.pid === pm) ticks += p.utime + p.stime + p.cutime + p.cstime;
    else if (p.ppid === pm) ticks += p.utime + p.stime;
  }
  return ticks / 100;
}
// --explain: the server CPU of the measured window per PostgreSQL process (same method as the .NET harness's
// ServerProcesses): ticks of every child of the postmaster at both ends, labelled from pg_stat_activity.
async function procSnapshot(client, pm) {
  if (pm == null) return null;
  const labels = new Map();
  const r = await client.query(`select pid, coalesce(backend_type, '') as bt, coalesce(application_name, '') as app,
    coalesce(query, '') as q, pid = pg_backend_pid() as self from pg_stat_activity`);
  for (const row of r.rows) {
    let label = row.bt;
    if (row.bt === "client backend") {
      const q = row.q.replace(/\s+/g, " ").trim();
      label = row.self ? "client: the meter's own connection"
        : `client${/^LISTEN/i.test(q) ? " listener" : ""}${row.app ? ` [${row.app}]` : ""}: ${q.slice(0, 60)}`;
    }
    labels.set(row.pid, label);
  }
  const ticks = new Map();
  let own = 0, reaped = 0, user = 0, system = 0;
  for (const p of procStats()) {
    if (p.pid === pm) {
      own = p.utime + p.stime; reaped = p.cutime + p.cstime;
      user += p.utime + p.cutime; system += p.stime + p.cstime;
    } else if (p.ppid === pm) {
      ticks.set(p.pid, p.utime + p.stime);
      user += p.utime; system += p.stime;
      if (!labels.has(p.pid)) labels.set(p.pid, "process: " + p.comm);
    }
  }
  return { ticks, own, reaped, labels, user, system };
}
function procReport(a, b, jobs) {
  if (!a || !b) return "server CPU per process: not available (server not on this machine)";
  const us = (t) => t * 1e4 / jobs;
  const rows = [];
  for (const [pid, t1] of b.ticks) {
    const isNew = !a.ticks.has(pid);
    rows.push([us(t1 - (a.ticks.get(pid) ?? 0)), `${String(pid).padStart(7)}${isNew ? " new" : "    "}  ${b.labels.get(pid) ?? a.labels.get(pid) ?? "?"}`]);
  }
  for (const [pid] of a.ticks) if (!b.ticks.has(pid)) rows.push([0, `${String(pid).padStart(7)} exited ${a.labels.get(pid) ?? "?"} (its CPU is in the reaped row)`]);
  rows.push([us(b.own - a.own), "postmaster itself"]);
  rows.push([us(b.reaped - a.reaped), "children that exited in the window (reaped: cutime + cstime)"]);
  const total = rows.reduce((s, r) => s + r[0], 0);
  let out = `server CPU per process (µs/job; 1 tick = ${(1e4 / jobs).toFixed(2)} µs/job), total ${total.toFixed(1)} (user ${us(b.user - a.user).toFixed(1)}, system ${us(b.system - a.system).toFixed(1)}):\n`;
  for (const [u, w] of rows.filter((r) => r[0] > 0 || r[1].includes("exited")).sort((x, y) => y[0] - x[0])) out += `    ${u.toFixed(2).padStart(6)}  ${w}\n`;
  return out + `    (${rows.filter((r) => r[0] === 0 && !r[1].includes("exited")).length} processes used no tick)`;
}
async function execMs(client) {
  try { return (await client.query("select coalesce(sum(total_exec_time), 0)::float8 as ms from pg_stat_statements")).rows[0].ms; } catch { return null; }
}
async function cpuSample(client, pm) {
  const u = process.cpuUsage();
  return { client: (u.user + u.system) / 1e6, server: serverSeconds(pm), exec: await execMs(client), t: now() };
}
function cpuJson(a, b, jobs, extraClientSeconds = 0) {
  const wall = (b.t - a.t) / 1000;
  const client = b.client - a.client + extraClientSeconds;
  const server = a.server == null || b.server == null ? null : b.server - a.server;
  const exec = a.exec == null || b.exec == null ? null : b.exec - a.exec;
  const r = (x) => (x == null || !isFinite(x) ? null : Math.round(x * 100) / 100);
  return { client_cpu_us_per_job: r(client * 1e6 / jobs), server_cpu_us_per_job: r(server == null ? null : server * 1e6 / jobs),
    server_exec_us_per_job: r(exec == null ? null : exec * 1e3 / jobs), client_cpu_pct: r(client / wall * 100),
    server_cpu_pct: r(server == null ? null : server / wall * 100), server_exec_pct: r(exec == null ? null : exec / 1e3 / wall * 100) };
}

// ---------------------------------------------------------------- graphile setup
const batching = (process.env.GRAPHILE_BATCHING ?? "1") !== "0";
const logger = new Logger(() => (level, message) => { if (level === "error" || level === "warning") console.error(`[graphile:${level}] ${message}`); });

function preset(o, url, schema) {
  const worker = {
    connectionString: url,
    schema,
    concurrentJobs: o.concurrency,
    maxPoolSize: Math.max(10, o.concurrency + 2),
    pollInterval: o.pollIntervalMs ?? 2000,
    logger,
  };
  if (batching) {
    worker.localQueue = { size: 500 };
    worker.completeJobBatchDelay = 0;
    worker.failJobBatchDelay = 0;
  }
  return { worker };
}

// A job-run recorder: which sequence numbers ran (verification), how many, and when a target count is reached.
class Recorder {
  constructor(n) { this.seen = new Uint8Array(n); this.count = 0; this.dupes = 0; this.outOfRange = 0; this.latencies = []; this.waiters = []; this.rss = {}; this.reportRss = false; }
  record(payload) {
    const s = payload.s;
    if (payload.t != null) this.latencies.push(performance.timeOrigin + now() - payload.t);
    if (s >= 0 && s < this.seen.length) { if (this.seen[s]++ > 0) this.dupes++; } else if (s >= 0) this.outOfRange++;
    this.count++;
    if (this.reportRss && (this.count === 10000 || this.count === 100000 || this.count === 1000000)) this.rss[this.count] = rssMb();
    for (const w of this.waiters) if (this.count >= w.n) w.resolve();
    this.waiters = this.waiters.filter((w) => this.count < w.n);
  }
  reach(n) { return this.count >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve })); }
}

async function startRunner(o, url, schema, recorder) {
  const taskList = { [TASK]: async (payload) => { recorder.record(payload); } };
  return await run({ preset: preset(o, url, schema), taskList, noHandleSignals: true });
}

async function withClient(url, fn) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

// Rows that are still to run (pending or locked); completed jobs are deleted by graphile-worker, permanently failed
// history rows (attempts = max_attempts) are excluded.
async function liveJobs(client, schema) {
  const r = await client.query(`select count(*)::int as n from "${schema}"._private_jobs where attempts < max_attempts or locked_at is not null`);
  return r.rows[0].n;
}

async function waitUntilEmpty(client, schema, timeoutMs = 600000) {
  const deadline = now() + timeoutMs;
  while ((await liveJobs(client, schema)) > 0) {
    if (now() > deadline) throw new Error("timed out waiting for the queue to empty");
    await sleep(2);
  }
}

async function prefill(utils, n, batch = 1000, seqBase = 0) {
  for (let i = 0; i < n; i += batch) {
    const specs = [];
    for (let j = i; j < Math.min(n, i + batch); j++) specs.push({ identifier: TASK, payload: { s: seqBase + j } });
    await utils.addJobs(specs);
  }
}

async function fillHistory(client, schema, r) {
  if (r <= 0) return;
  log(`inserting ${r} permanently failed history rows`);
  await client.query(`insert into "${schema}"._private_tasks (identifier) values ($1) on conflict do nothing`, [TASK]);
  await client.query(`insert into "${schema}"._private_jobs (task_id, payload, attempts, max_attempts, last_error, run_at)
    select (select id from "${schema}"._private_tasks where identifier = $1), json_build_object('s', -1), 1, 1, 'bench history', now() - interval '1 day'
    from generate_series(1, $2)`, [TASK, r]);
  await client.query(`vacuum analyze "${schema}"._private_jobs`);
}

async function clearJobs(client, schema) {
  await client.query(`delete from "${schema}"._private_jobs where attempts < max_attempts or locked_at is not null`);
  await client.query(`vacuum analyze "${schema}"._private_jobs`);
}

// Warm-up: --warmup-rounds times, the same process pushes and drains --warmup jobs with a throwaway runner (JIT, pools),
// then stops it.
async function warmUpWorkers(o, url, schema, utils) {
  for (let round = 0; round < o.warmupRounds; round++) {
    const rec = new Recorder(0);
    await prefill(utils, o.warmup, 100, -1e9);
    const runner = await startRunner(o, url, schema, rec);
    await rec.reach(o.warmup);
    await runner.stop();
    await withClient(url, (c) => waitUntilEmpty(c, schema));
    if (o.warmupRounds > 1) await sleep(250);
  }
}

// ---------------------------------------------------------------- workloads
async function main() {
  const o = parseArgs(process.argv.slice(2));
  const url = toPgUrl(o.connection);
  if (o.worker) return await childWorker(o, url);

  const schema = `gw_bench_${process.pid}_${Date.now().toString(36)}`;
  log(`node ${process.version}, graphile-worker batching=${batching}, schema ${schema}, workload ${o.workload}, N=${o.jobs}, C=${o.concurrency}, P=${o.processes}`);
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger, maxPoolSize: Math.max(10, o.pushers + 2) });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let result;
  try {
    await utils.migrate();
    await fillHistory(admin, schema, o.retainedHistory);
    switch (o.workload) {
      case "enqueue": result = await enqueue(o, utils, admin, schema); break;
      case "enqueue_batch": result = await enqueueBatch(o, utils, admin, schema); break;
      case "drain": result = o.processes > 1 ? await drainMulti(o, url, utils, admin, schema) : await drain(o, url, utils, admin, schema); break;
      case "latency": result = await latency(o, url, utils, admin, schema); break;
      case "enqueue_concurrent": result = await enqueueConcurrent(o, url, utils, admin, schema); break;
    }
  } finally {
    await utils.release();
    try { await admin.query(`drop schema if exists "${schema}" cascade`); } catch (e) { log(`drop schema failed: ${e.message}`); }
    await admin.end();
  }
  process.stdout.write(JSON.stringify(result.json) + "\n");
  if (!result.ok) { log(`VERIFICATION FAILED: ${result.error}`); process.exitCode = 1; }
}

function line(o, seconds, jobs, p50 = null, p99 = null, extra = {}) {
  const latency = o.workload === "latency";
  return { workload: o.workload, jobs, seconds: Math.round(seconds * 1000) / 1000,
    jobs_per_sec: latency ? null : Math.round(jobs / seconds), p50_ms: round2(p50), p99_ms: round2(p99), ...extra };
}

async function enqueue(o, utils, admin, schema) {
  for (let i = 0; i < WARMUP_JOBS; i++) await utils.addJob(TASK, { s: -1 });
  await clearJobs(admin, schema);
  const t0 = now();
  for (let i = 0; i < o.jobs; i++) await utils.addJob(TASK, { s: i });
  const s = (now() - t0) / 1000;
  const stored = await liveJobs(admin, schema);
  return { json: line(o, s, o.jobs), ok: stored === o.jobs, error: `${stored} jobs stored, expected ${o.jobs}` };
}

async function enqueueBatch(o, utils, admin, schema) {
  const batch = int(process.env.BENCH_BATCH_SIZE ?? "1000", "BENCH_BATCH_SIZE");
  await prefill(utils, Math.min(batch * 2, 2000), batch, -1e9);
  await clearJobs(admin, schema);
  const t0 = now();
  for (let i = 0; i < o.jobs; i += batch) {
    const specs = [];
    for (let j = i; j < Math.min(o.jobs, i + batch); j++) specs.push({ identifier: TASK, payload: { s: j } });
    await utils.addJobs(specs);
  }
  const s = (now() - t0) / 1000;
  const stored = await liveJobs(admin, schema);
  return { json: line(o, s, o.jobs, null, null, { batch_size: batch }), ok: stored === o.jobs, error: `${stored} jobs stored, expected ${o.jobs}` };
}

function verify(rec, n) {
  let missing = 0;
  for (let i = 0; i < n; i++) if (rec.seen[i] === 0) missing++;
  if (missing || rec.dupes || rec.outOfRange) return `${missing} jobs never ran, ${rec.dupes} ran twice, ${rec.outOfRange} unknown`;
  return null;
}

async function drain(o, url, utils, admin, schema) {
  await warmUpWorkers(o, url, schema, utils);
  await prefill(utils, o.jobs);
  await admin.query(`vacuum analyze "${schema}"._private_jobs`);
  const rec = new Recorder(o.jobs);
  rec.reportRss = o.reportRss;
  const pm = await postmasterPid(admin);
  const profile = o.explain ? await startProfile(admin, schema) : null;
  const cpu0 = await cpuSample(admin, pm);
  const procs0 = o.explain ? await procSnapshot(admin, pm) : null;
  const t0 = now();
  const runner = await startRunner(o, url, schema, rec);
  await rec.reach(o.jobs);
  await waitUntilEmpty(admin, schema);
  const s = (now() - t0) / 1000;
  const procs1 = o.explain ? await procSnapshot(admin, pm) : null;
  const cpu1 = await cpuSample(admin, pm);
  await sleep(200); // anything run twice would show up now
  await runner.stop();
  if (profile) { await sleep(1100); await reportProfile(admin, schema, profile, o.jobs); log(procReport(procs0, procs1, o.jobs)); }
  const error = verify(rec, o.jobs);
  const extra = { ...cpuJson(cpu0, cpu1, o.jobs),
    ...(o.reportRss ? { rss_mb_10k: rec.rss[10000] ?? null, rss_mb_100k: rec.rss[100000] ?? null, rss_mb_1m: rec.rss[1000000] ?? null } : {}) };
  return { json: line(o, s, o.jobs, null, null, extra), ok: !error, error };
}

// --explain: per drained job, each statement's exec time, buffers, WAL and rows (pg_stat_statements, reset here: needs
// superuser), the jobs table's inserts/updates (HOT)/deletes, and the WAL records by type (pg_walinspect, when installed).
async function startProfile(admin, schema) {
  try { await admin.query("select pg_stat_statements_reset()"); } catch (e) { log(`pg_stat_statements: ${e.message}`); }
  const t = await tableStats(admin, schema);
  const lsn = (await admin.query("select pg_current_wal_insert_lsn()::text as l")).rows[0].l;
  return { lsn, t };
}

async function tableStats(admin, schema) {
  const r = await admin.query(`select coalesce(sum(n_tup_ins),0)::float8 as i, coalesce(sum(n_tup_upd),0)::float8 as u, coalesce(sum(n_tup_hot_upd),0)::float8 as h,
    coalesce(sum(n_tup_del),0)::float8 as d from pg_stat_user_tables where schemaname = $1 and relname = '_private_jobs'`, [schema]);
  return r.rows[0];
}

async function reportProfile(admin, schema, p, n) {
  const f = (x, d = 2) => Number(x).toFixed(d);
  const t = await tableStats(admin, schema);
  const out = [`drain profile per job (WAL from ${p.lsn}):`,
    `    jobs table: ${f((t.i - p.t.i) / n, 3)} inserted, ${f((t.u - p.t.u) / n, 3)} updated (${f((t.h - p.t.h) / n, 3)} HOT), ${f((t.d - p.t.d) / n, 3)} deleted`,
    "    exec_us  blks_hit+read  dirtied  wal_records  wal_bytes  rows  calls  statement"];
  try {
    const r = await admin.query(`select total_exec_time::float8 as e, (shared_blks_hit + shared_blks_read)::float8 as b, shared_blks_dirtied::float8 as d,
      wal_records::float8 as wr, wal_bytes::float8 as wb, rows::float8 as r, calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as q
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database()) order by total_exec_time desc limit 10`);
    for (const x of r.rows) out.push(`    ${f(x.e * 1000 / n, 1).padStart(7)}  ${f(x.b / n).padStart(13)}  ${f(x.d / n).padStart(7)}  ${f(x.wr / n).padStart(11)}  ${f(x.wb / n, 0).padStart(9)}  ${f(x.r / n).padStart(4)}  ${String(x.calls).padStart(5)}  ${x.q}`);
  } catch (e) { out.push(`    (pg_stat_statements: ${e.message})`); }
  try {
    const r = await admin.query(`select "resource_manager/record_type" as t, count::float8 as c, combined_size::float8 as s
      from pg_get_wal_stats($1::pg_lsn, pg_current_wal_insert_lsn(), true) where count > 0 order by combined_size desc`, [p.lsn]);
    out.push("    WAL records per job (count, bytes): " + r.rows.map((x) => `${x.t} ${f(x.c / n, 3)} (${f(x.s / n, 0)} B)`).join("; "));
  } catch (e) { out.push("    (WAL records by type: CREATE EXTENSION pg_walinspect to see them)"); }
  log(out.join("\n"));
}

async function drainMulti(o, url, utils, admin, schema) {
  await prefill(utils, o.jobs);
  await admin.query(`vacuum analyze "${schema}"._private_jobs`);
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  const self = fileURLToPath(import.meta.url);
  const children = [];
  for (let p = 0; p < o.processes; p++) {
    const results = join(dir, `w${p}.json`);
    const child = spawn(process.execPath, [self, "--worker", "--connection", o.connection, "--schema", schema, "--concurrency", String(o.concurrency),
      "--jobs", String(o.jobs), "--results", results], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout });
    const ready = new Promise((resolve, reject) => { lines.on("line", (l) => { if (l === "ready") resolve(); }); child.on("exit", (c) => reject(new Error(`worker exited with ${c}`))); });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    children.push({ child, ready, exited, results });
  }
  await Promise.all(children.map((c) => c.ready));
  const pm = await postmasterPid(admin);
  const cpu0 = await cpuSample(admin, pm);
  const t0 = now();
  for (const c of children) c.child.stdin.write("go\n");
  await waitUntilEmpty(admin, schema);
  const s = (now() - t0) / 1000;
  const cpu1 = await cpuSample(admin, pm);
  await sleep(200);
  for (const c of children) c.child.stdin.end("stop\n");
  const codes = await Promise.all(children.map((c) => c.exited));
  const rec = new Recorder(o.jobs);
  let childCpu = 0;
  for (const c of children) {
    const r = JSON.parse(readFileSync(c.results, "utf8"));
    for (const seq of r.seqs) rec.record({ s: seq });
    childCpu += r.cpu;
  }
  rmSync(dir, { recursive: true, force: true });
  let error = verify(rec, o.jobs);
  if (codes.some((c) => c !== 0)) error = `worker exit codes ${codes.join(",")}` + (error ? `; ${error}` : "");
  // Client CPU: the worker processes from "go" to "stop" (this parent only waits).
  const cpu = cpuJson({ ...cpu0, client: 0 }, { ...cpu1, client: 0 }, o.jobs, childCpu);
  return { json: line(o, s, o.jobs, null, null, { processes: o.processes, ...cpu }), ok: !error, error };
}

async function childWorker(o, url) {
  const seqs = [];
  const rec = { record: (p) => seqs.push(p.s) };
  const lines = createInterface({ input: process.stdin });
  const go = new Promise((resolve) => lines.on("line", (l) => { if (l === "go") resolve(); }));
  const stop = new Promise((resolve) => { lines.on("line", (l) => { if (l === "stop") resolve(); }); lines.on("close", resolve); });
  // Open the pool before "ready" so that connecting is not timed.
  const pool = new pg.Pool({ connectionString: url, max: Math.max(10, o.concurrency + 2) });
  pool.on("error", (e) => log(`pool error: ${e.message}`));
  await Promise.all(Array.from({ length: 4 }, () => pool.query("select 1")));
  process.stdout.write("ready\n");
  await go;
  const u0 = process.cpuUsage();
  const runner = await run({ preset: preset(o, url, o.schema), pgPool: pool, taskList: { [TASK]: async (payload) => rec.record(payload) }, noHandleSignals: true });
  await stop;
  const u = process.cpuUsage(u0);
  await runner.stop();
  await pool.end();
  writeFileSync(o.results, JSON.stringify({ seqs, cpu: (u.user + u.system) / 1e6 }));
}

async function latency(o, url, utils, admin, schema) {
  if (o.pollOnly) log("graphile-worker always LISTENs for new jobs; --poll-only has no equivalent (figures are with LISTEN/NOTIFY)");
  const rec = new Recorder(LATENCY_JOBS);
  const runner = await startRunner(o, url, schema, rec);
  // Warm-up on the running worker: pushes spaced like the measurement (1,000: at least what Jobs.Sdk's warm-up runs before
  // its JIT is quiet, as V8's optimizing tiers need calls too; 50 with --cold-latency), then a pause so the workers are idle.
  const warmUp = o.coldLatency ? 50 : 1000;
  for (let i = 0; i < warmUp; i++) { await utils.addJob(TASK, { s: -1 }); await sleep(LATENCY_SPACING_MS); }
  await rec.reach(warmUp);
  await sleep(500);
  rec.latencies = [];
  const start = now();
  const t0 = now();
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const due = start + i * LATENCY_SPACING_MS;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    await utils.addJob(TASK, { s: i, t: performance.timeOrigin + now() });
  }
  await rec.reach(warmUp + LATENCY_JOBS);
  const s = (now() - t0) / 1000;
  await runner.stop();
  const sorted = rec.latencies.slice().sort((a, b) => a - b);
  const error = rec.dupes ? `${rec.dupes} jobs ran twice` : (sorted.length !== LATENCY_JOBS ? `${sorted.length} latencies recorded` : null);
  const json = line(o, s, LATENCY_JOBS, percentile(sorted, 50), percentile(sorted, 99), { warmup_jobs: warmUp, ...(o.pollOnly ? { poll_only: "unsupported" } : {}) });
  return { json, ok: !error, error };
}

// P concurrent single pushers (one addJob, one commit each) while a worker drains them (unless --no-worker): pushes per
// second, and the worker's wake-up latency (handler start − the moment addJob returned), p50/p99 over all jobs.
async function enqueueConcurrent(o, url, utils, admin, schema) {
  for (let i = 0; i < WARMUP_JOBS; i++) await utils.addJob(TASK, { s: -1 });
  const pushed = new Float64Array(o.jobs), started = new Float64Array(o.jobs);
  const rec = new Recorder(o.jobs);
  const origRecord = rec.record.bind(rec);
  rec.record = (p) => { if (p.s >= 0 && p.s < o.jobs) started[p.s] = now(); origRecord(p); };
  let runner = null;
  if (!o.noWorker) { runner = await startRunner(o, url, schema, rec); await waitUntilEmpty(admin, schema); } else await clearJobs(admin, schema);
  for (let round = 0; runner && round < o.pusherWarmup; round++) {
    // The pool's connections for P pushers (and their first statements) come up before the window, not in it.
    await Promise.all(Array.from({ length: o.pushers }, async () => { for (let k = 0; k < 10; k++) await utils.addJob(TASK, { s: -1 }); }));
    await waitUntilEmpty(admin, schema);
  }
  const pm = await postmasterPid(admin);
  const cpu0 = await cpuSample(admin, pm);
  let next = 0;
  const t0 = now();
  await Promise.all(Array.from({ length: o.pushers }, async () => {
    for (let seq = next++; seq < o.jobs; seq = next++) {
      if (o.pushRate > 0) {
        // Open loop: push seq is due seq / rate seconds after the start (late pushes go at once).
        const due = t0 + (seq * 1000) / o.pushRate - now();
        if (due >= 1) await sleep(due);
      }
      await utils.addJob(TASK, { s: seq }); pushed[seq] = now();
    }
  }));
  const s = (now() - t0) / 1000;
  const cpu1 = await cpuSample(admin, pm);
  let p50 = null, p99 = null, error = null;
  if (runner) {
    await rec.reach(o.jobs);
    await waitUntilEmpty(admin, schema);
    await sleep(200);
    await runner.stop();
    const wake = Array.from({ length: o.jobs }, (_, i) => Math.max(0, started[i] - pushed[i])).sort((a, b) => a - b);
    p50 = percentile(wake, 50); p99 = percentile(wake, 99);
    error = verify(rec, o.jobs);
  } else {
    const stored = await liveJobs(admin, schema);
    if (stored !== o.jobs) error = `${stored} jobs stored, expected ${o.jobs}`;
  }
  return { json: line(o, s, o.jobs, p50, p99, { pushers: o.pushers, push_rate: o.pushRate, with_worker: !o.noWorker, ...cpuJson(cpu0, cpu1, o.jobs) }), ok: !error, error };
}

main().catch((e) => { console.error(e); process.exit(1); });
