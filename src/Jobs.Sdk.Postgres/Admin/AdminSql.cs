namespace Jobs.Sdk.Postgres;

/// <summary>
/// SQL of the PostgreSQL admin store. <c>{s}</c> is the quoted schema, substituted once. Every value (queue names included)
/// is a positional parameter. Bulk statements take a bounded id array ($1) and run as one implicit transaction each.
/// </summary>
internal static class AdminSql
{
    /// <summary>
    /// The columns of a listed job (<see cref="JobSummary"/>), plain columns only (the text search selects them from a CTE
    /// of its own). <c>cancel_requested</c> and <c>delete_requested</c> together tell a running job an operator deleted
    /// (<see cref="Delete"/>).
    /// </summary>
    public const string JobColumns =
        "id, name, queue_name, state, priority, attempts, max_attempts, created_at, run_at, started_at, finished_at, last_error, worker_id, " +
        "cancel_requested, delete_requested";

    /// <summary>Job $1 with every column the detail view shows.</summary>
    public const string GetJob = "SELECT " + JobColumns + """
        , payload::text, headers::text, lease_expires_at, updated_at, errors::text
        FROM {s}.jobs WHERE id = $1
        """;

    // The rows each bulk action changes: one text per action, read by its statement and by its dry run (AdminPreviewSql).
    // Static fields initialize in text order: these stay above the statements that use them.

    /// <summary>The rows a retry of ids $1 puts back, only in states $3 when given, in id order (the unique-key check follows: <see cref="UniqueRetrySql"/>).</summary>
    public static readonly string RetryTargets = $$"""
        SELECT id, queue_name, unique_key, released_unique_key FROM {s}.jobs
            WHERE id = ANY($1) AND state IN (2, 4, 5) AND {{InStates("$3")}} ORDER BY id
        """;

    /// <summary>
    /// In <see cref="Cancel"/> (row <c>j</c>, its target <c>t</c>): a waiting unique job whose hold ends as it finishes (no
    /// <c>unique_for</c>) gives its key up as it is cancelled.
    /// </summary>
    private const string ReleasedAtCancel = "t.state <> 1 AND j.unique_key IS NOT NULL AND coalesce(j.unique_for, interval '0') <= interval '0'";

    /// <summary>A cancel changes waiting jobs, and running ones not yet asked to stop.</summary>
    public const string CancelApplies = "(state IN (0, 2, 6) OR (state = 1 AND NOT cancel_requested))";

    /// <summary>A delete changes every job but a running one already being deleted.</summary>
    public const string DeleteApplies = "NOT (state = 1 AND delete_requested AND cancel_requested)";

    /// <summary>A priority change ($2) changes waiting jobs of another priority.</summary>
    public const string SetPriorityApplies = "state IN (0, 2, 6) AND priority <> $2";

    /// <summary>Run-now changes delayed pending or retrying jobs.</summary>
    public const string RunNowApplies = "state IN (0, 2) AND run_at > now()";

    /// <summary>
    /// Retry ids $1 ($2: from attempt 1), only in states $3 when given (null: any it applies to; <see cref="InStates"/>). A
    /// unique job whose key another job holds now is left as it was (<see cref="UniqueRetrySql"/>). Returns the queues of
    /// changed rows (for wake-ups).
    /// </summary>
    public static readonly string Retry = $$"""
        WITH seen AS MATERIALIZED (
            {{RetryTargets}}
        ),
        {{UniqueRetrySql.PutBack("seen", "state IN (2, 4, 5) AND " + InStates("$3"))}},
        {{UniqueRetrySql.LockPutBackKeys}}
        UPDATE {s}.jobs j
        SET state = 0, run_at = now(), key_seq = {{ConcurrencyKeySql.NewPlace}},
            attempts = CASE WHEN $2 THEN 0 ELSE attempts END,
            max_attempts = CASE WHEN $2 THEN max_attempts ELSE greatest(max_attempts, attempts + 1) END,
            finished_at = NULL, lease_expires_at = NULL, cancel_requested = false, delete_requested = false, paused_from = NULL, updated_at = now(),
            {{UniqueRetrySql.SetKey("j", "p")}}
        FROM put_back p
        WHERE j.id = p.put_id AND j.state IN (2, 4, 5) AND {{InStates("$3", "j.state")}} AND {{UniqueRetrySql.AfterUnkeyed("p")}}
            AND (SELECT count(*) FROM key_locks) >= 0
        RETURNING j.queue_name
        """;

    /// <summary>
    /// Cancel ids $1, only in states $2 when given: waiting ones become cancelled, running ones get cancel_requested.
    /// Returns id, queue, whether it was running, and the lease token of the claim running it (cancel notifications name
    /// that claim). Rows are locked in id order, the one order of every statement that locks claimed rows (a worker's
    /// outcome batch, its lease renewal): locked in the order a plan read them (a sequential scan: the table's), a cancel
    /// of running jobs deadlocked with their worker's outcome batch, and PostgreSQL aborted one of the two.
    /// A waiting unique job without <c>unique_for</c> releases its key as it is cancelled (its hold is over at once), as
    /// <see cref="UniqueJobSql.Release"/> releases the key of a job kept (remembered in <c>released_unique_key</c>, for a
    /// retry): an operator's cancel keeps the job for inspection, and with its key it was a holder whose hold is over,
    /// which the next push of the key and the rescue pass delete when retention drops cancelled jobs (a unique job
    /// disappeared within a rescue pass, a plain one stayed). One with <c>unique_for</c> keeps its key for that long and is
    /// marked kept (<see cref="OperatorCancelSql"/>), so the release of its key once the hold is over keeps it too.
    /// </summary>
    public static readonly string Cancel = $$"""
        WITH target AS MATERIALIZED (
            SELECT id, state, lease_token FROM {s}.jobs
            WHERE id = ANY($1) AND {{CancelApplies}} AND {{InStates("$2")}}
            ORDER BY id FOR UPDATE
        )
        UPDATE {s}.jobs j
        SET state = CASE WHEN t.state = 1 THEN 1 ELSE 5 END,
            cancel_requested = (t.state = 1),
            paused_from = NULL,
            finished_at = CASE WHEN t.state = 1 THEN j.finished_at ELSE now() END,
            released_unique_key = CASE WHEN {{ReleasedAtCancel}} THEN j.unique_key ELSE j.released_unique_key END,
            unique_key = CASE WHEN {{ReleasedAtCancel}} THEN NULL ELSE j.unique_key END,
            {{OperatorCancelSql.Mark("j", "t")}},
            updated_at = now()
        FROM target t
        WHERE j.id = t.id
        RETURNING j.id, j.queue_name, t.state = 1, t.lease_token
        """;

    /// <summary>
    /// A bulk statement's check of a filter's states (<see cref="Jobs.Sdk.Drivers.JobAdminAction.OnlyStates"/>): true when the smallint[]
    /// parameter <paramref name="parameter"/> is null, else whether <paramref name="column"/> is one of them. Evaluated on
    /// the row the statement locks, so a job that moved to another state since the filter found it is left alone.
    /// </summary>
    public static string InStates(string parameter, string column = "state") => $"({parameter}::smallint[] IS NULL OR {column} = ANY({parameter}))";

    /// <summary>
    /// Deletes ids $1, only in states $2 when given (null: any state). A waiting or finished job's row goes at once. A
    /// running one is cancelled and removed when it ends: it keeps its row, state and lease, with <c>cancel_requested</c>
    /// and <c>delete_requested</c> set (migration 0017), so it keeps its slot in its concurrency key's line and in its
    /// queue's global count until its handler really ended; its worker's outcome, whatever it is, deletes the row
    /// (<see cref="JobSql.Complete"/>), as does the lease rescue when the worker died (<see cref="JobSql.RescueExpired"/>).
    /// Deleting it at once let the next job of its key (or queue) start while its handler still ran. A running job already
    /// being deleted is not counted again. Rows are locked in id order. Returns id, queue, whether it was running, and
    /// the lease token of the claim running it: a running job's handler is told as a cancel tells it.
    /// </summary>
    public static readonly string Delete = $$"""
        WITH target AS MATERIALIZED (
            SELECT id, state = 1 AS running FROM {s}.jobs
            WHERE id = ANY($1) AND {{DeleteApplies}} AND {{InStates("$2")}}
            ORDER BY id FOR UPDATE
        ),
        removed AS (
            DELETE FROM {s}.jobs j USING target t WHERE j.id = t.id AND NOT t.running
            RETURNING j.id, j.queue_name
        ),
        marked AS (
            UPDATE {s}.jobs j SET cancel_requested = true, delete_requested = true, updated_at = now()
            FROM target t WHERE j.id = t.id AND t.running
            RETURNING j.id, j.queue_name, j.lease_token
        )
        SELECT id, queue_name, false, NULL::uuid FROM removed
        UNION ALL
        SELECT id, queue_name, true, lease_token FROM marked
        """;

    /// <summary>
    /// Priority $2 for waiting ids $1, only in states $3 when given. Rows are locked in id order, as <see cref="Cancel"/>'s:
    /// locked in the order a plan read them (a plain UPDATE's scan), a set-priority deadlocked with another operator's
    /// cancel or delete of the same jobs.
    /// </summary>
    public static readonly string SetPriority = $$"""
        WITH target AS MATERIALIZED (
            SELECT id FROM {s}.jobs
            WHERE id = ANY($1) AND {{SetPriorityApplies}} AND {{InStates("$3")}}
            ORDER BY id FOR UPDATE
        )
        UPDATE {s}.jobs j SET priority = $2, updated_at = now()
        FROM target t
        WHERE j.id = t.id
        """;

    /// <summary>
    /// Delayed waiting ids $1 become due now, only in states $2 when given. Returns their queues. Rows are locked in id
    /// order (<see cref="SetPriority"/>).
    /// </summary>
    public static readonly string RunNow = $$"""
        WITH target AS MATERIALIZED (
            SELECT id FROM {s}.jobs
            WHERE id = ANY($1) AND {{RunNowApplies}} AND {{InStates("$2")}}
            ORDER BY id FOR UPDATE
        )
        UPDATE {s}.jobs j SET run_at = now(), updated_at = now()
        FROM target t
        WHERE j.id = t.id
        RETURNING j.queue_name
        """;

    /// <summary>One notification per (channel $1[i], payload $2[i]).</summary>
    public const string NotifyMany = "SELECT count(pg_notify(c, p)) FROM unnest($1::text[], $2::text[]) AS n(c, p)";

    /// <summary>
    /// The oldest due run time of each queue with runnable jobs: per queue and priority, the first entry of
    /// <c>jobs_runnable_idx</c> (ordered by run time within a priority) when it is due, as the claim reads them.
    /// </summary>
    public static readonly string QueueOldestWaiting =
        OldestWaitingOf("(SELECT queue_name FROM {s}.job_state_counts WHERE state IN (0, 2) GROUP BY 1 HAVING sum(n) > 0) c");

    /// <summary>
    /// The oldest due run time of each queue of <paramref name="queues"/> (a FROM item, alias <c>c</c>, column
    /// <c>queue_name</c>) that has one: per queue and priority, the first entry of <c>jobs_runnable_idx</c> when it is due.
    /// </summary>
    public static string OldestWaitingOf(string queues) => $"""
        SELECT c.queue_name, min(x.run_at)
        FROM {queues}
        CROSS JOIN unnest('{SqlCodes.ClaimPriorities}'::smallint[]) AS p(priority)
        CROSS JOIN LATERAL (
            SELECT j.run_at FROM {"{s}"}.jobs j
            WHERE j.queue_name = c.queue_name AND j.state IN (0, 2) AND j.priority = p.priority AND j.run_at <= now()
            ORDER BY j.run_at LIMIT 1
        ) x
        GROUP BY 1
        """;

    /// <summary>The paused queues (a row with paused = false, left by code from before resume deleted it, means nothing).</summary>
    public const string QueueStates = "SELECT name, paused, reason, paused_at FROM {s}.queues WHERE paused";

    public const string LiveWorkersPerQueue = """
        SELECT q, count(*) FROM {s}.workers, unnest(queues) AS q WHERE expires_at > now() GROUP BY q
        """;

    public const string DatabaseNow = "SELECT now()";

    /// <summary>
    /// Pause queue $1 with reason $2. Returns whether it was running before: the row is inserted (<c>xmax = 0</c>: no row,
    /// not paused), or <c>prev</c>, its newest version locked, was not paused (a row older code left). The lock waits for
    /// another operator's resume, whose deleted row then lets this insert; a row another operator's pause inserted after
    /// this statement's snapshot is not in <c>prev</c> but is the conflict the insert waits for and updates: paused.
    /// (Read from the snapshot alone, the statement said "running" to both of two concurrent pauses, and "already paused"
    /// to a pause that followed a concurrent resume.)
    /// </summary>
    public const string PauseQueue = """
        WITH prev AS MATERIALIZED (SELECT paused FROM {s}.queues WHERE name = $1 FOR UPDATE)
        INSERT INTO {s}.queues AS q (name, paused, reason, paused_at, updated_at)
        SELECT $1, true, $2, now(), now() FROM (SELECT count(*) FROM prev) l
        ON CONFLICT (name) DO UPDATE
            SET paused = true, reason = excluded.reason, updated_at = now(),
                paused_at = CASE WHEN q.paused THEN q.paused_at ELSE now() END
        RETURNING q.xmax = 0 OR NOT coalesce((SELECT paused FROM prev), true)
        """;

    /// <summary>
    /// Resume queue $1: its row goes (a queue without a row is not paused; the claim reads <c>NOT EXISTS (... AND paused)</c>),
    /// so a queue paused once is not listed forever after a deploy removed it. Rows older code left (paused = false) are
    /// not listed either (<see cref="QueueStates"/>).
    /// </summary>
    public const string ResumeQueue = "DELETE FROM {s}.queues WHERE name = $1 AND paused";

    /// <summary>
    /// Upsert schedule entries from arrays (the pause flag is kept): $1 queue, $2 entry key, $3 job name, $4 description,
    /// $5 payload, $6 priority, $7 max attempts, $8 next fire, $9 unique key (null: not unique), $10 its unique_for in ms,
    /// $11 concurrency key (null: none), $12 its limit, $13 how long the publication holds in ms (0: not given, the previous
    /// one is kept; see <see cref="ScheduleRetentionSql"/>). An entry whose row already holds what it publishes and is fresh
    /// (<see cref="ScheduleRetentionSql.IsFresh"/>) is left out before the insert, so its row is neither rewritten nor locked:
    /// a scheduler of 5,000 entries rewrote 5,000 rows every third of its lease on every host, at rest.
    /// </summary>
    public static readonly string PublishSchedules = $$"""
        WITH e AS (
            SELECT u.queue_name, u.entry_key, u.job_name, u.description, u.payload::jsonb AS payload, u.priority, u.max_attempts,
                u.next_fire, u.unique_key, CASE WHEN u.unique_key IS NOT NULL THEN u.unique_for_ms * interval '1 millisecond' END AS unique_for,
                u.concurrency_key, CASE WHEN u.concurrency_key IS NOT NULL THEN greatest(coalesce(u.concurrency_limit, 1), 1) END AS concurrency_limit,
                CASE WHEN u.ttl_ms > 0 THEN u.ttl_ms * interval '1 millisecond' END AS publish_ttl
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::integer[], $8::timestamptz[],
                    $9::text[], $10::double precision[], $11::text[], $12::integer[], $13::double precision[])
                AS u(queue_name, entry_key, job_name, description, payload, priority, max_attempts, next_fire, unique_key, unique_for_ms,
                    concurrency_key, concurrency_limit, ttl_ms)
        )
        INSERT INTO {s}.schedules AS s (queue_name, entry_key, job_name, description, payload, priority, max_attempts, next_fire, seen_at,
            unique_key, unique_for, concurrency_key, concurrency_limit, publish_ttl)
        SELECT e.queue_name, e.entry_key, e.job_name, e.description, e.payload, e.priority, e.max_attempts, e.next_fire, now(),
            e.unique_key, e.unique_for, e.concurrency_key, e.concurrency_limit, e.publish_ttl
        FROM e
        WHERE NOT EXISTS (
            SELECT FROM {s}.schedules c
            WHERE c.queue_name = e.queue_name AND c.entry_key = e.entry_key AND {{ScheduleRetentionSql.IsFresh("c")}}
              AND (c.job_name, c.description, c.payload, c.priority, c.max_attempts, c.next_fire, c.unique_key, c.unique_for,
                   c.concurrency_key, c.concurrency_limit, c.publish_ttl)
                  IS NOT DISTINCT FROM (e.job_name, e.description, e.payload, e.priority, e.max_attempts, e.next_fire, e.unique_key,
                   e.unique_for, e.concurrency_key, e.concurrency_limit, coalesce(e.publish_ttl, c.publish_ttl)))
        ON CONFLICT (queue_name, entry_key) DO UPDATE
            SET job_name = excluded.job_name, description = excluded.description, payload = excluded.payload,
                priority = excluded.priority, max_attempts = excluded.max_attempts, next_fire = excluded.next_fire, seen_at = now(),
                unique_key = excluded.unique_key, unique_for = excluded.unique_for,
                concurrency_key = excluded.concurrency_key, concurrency_limit = excluded.concurrency_limit,
                publish_ttl = coalesce(excluded.publish_ttl, s.publish_ttl)
        """;

    /// <summary>
    /// Every published entry with its latest fire and whether it is stale (<see cref="ScheduleRetentionSql.IsStale"/>).
    /// Lists here sort names in "C" (byte, ordinal) order whatever the database's collation, as the in-memory store does:
    /// on an en-US database "a" came before "B" and "job_1" before "job-2".
    /// </summary>
    public static readonly string GetSchedules = $$"""
        SELECT s.queue_name, s.entry_key, s.job_name, s.description,
               (SELECT max(f.fire_time) FROM {s}.schedule_fires f WHERE f.queue_name = s.queue_name AND f.entry_key = s.entry_key
                AND f.job_id <> {{ScheduleSql.ResumeRecord}}),
               s.next_fire, s.paused, s.seen_at, {{ScheduleRetentionSql.IsStale("s")}}
        FROM {s}.schedules s
        ORDER BY s.queue_name COLLATE "C", s.entry_key COLLATE "C"
        """;

    /// <summary>
    /// Push the job template of entry $1 in each queue $2[i] with id $3[i] and headers $4, carrying unique key $5[i] (null:
    /// not unique; the key <see cref="ScheduleQueues"/> read, released first by <see cref="UniqueJobSql.Release"/> in the same
    /// transaction) and the entry's unique_for. A unique job is inserted only when no job of its queue holds the key: the
    /// insert yields on conflict with <c>jobs_unique_key_idx</c> exactly as <see cref="UniqueJobSql.Push"/> does (a
    /// concurrent holder's insert is waited for), so a trigger racing a unique push of the key leaves one job. A job with a
    /// concurrency key (the entry's <c>concurrency_key</c>, migration 0015) carries it and its limit and takes its place at
    /// the back of the key's line under the key's lock, as a push does (<see cref="ConcurrencyKeySql"/>). Returns the
    /// queues where a job was inserted.
    /// </summary>
    public static readonly string TriggerSchedule = $$"""
        WITH key_locks AS MATERIALIZED (
            SELECT {{ConcurrencyKeySql.Lock("d.q", "d.k")}}
            FROM (SELECT DISTINCT s.queue_name AS q, s.concurrency_key AS k FROM {s}.schedules s
                  WHERE s.entry_key = $1 AND s.queue_name = ANY($2::text[]) AND s.concurrency_key IS NOT NULL ORDER BY 1, 2) d
        )
        INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, unique_key, unique_for,
            concurrency_key, concurrency_limit, key_seq)
        SELECT t.id, s.queue_name, s.job_name, s.payload, $4::jsonb, s.priority, now(), s.max_attempts, t.unique_key,
            CASE WHEN t.unique_key IS NOT NULL THEN coalesce(s.unique_for, interval '0') END,
            s.concurrency_key, CASE WHEN s.concurrency_key IS NOT NULL THEN greatest(coalesce(s.concurrency_limit, 1), 1) END,
            {{ConcurrencyKeySql.Place("s.concurrency_key")}}
        FROM unnest($2::text[], $3::uuid[], $5::text[]) AS t(queue_name, id, unique_key)
        JOIN {s}.schedules s ON s.queue_name = t.queue_name AND s.entry_key = $1 AND {{Triggerable("s")}}
        CROSS JOIN (SELECT count(*) FROM key_locks) l
        ON CONFLICT (queue_name, unique_key) WHERE unique_key IS NOT NULL DO NOTHING
        RETURNING queue_name
        """;

    /// <summary>
    /// Whether the entry of <c>schedules</c> row <paramref name="s"/> may be triggered (a SQL expression): not paused (a pause
    /// stops its triggers as its fires) and published by a running scheduler (not stale: a deploy removed it).
    /// </summary>
    private static string Triggerable(string s) => $"NOT {s}.paused AND NOT ({ScheduleRetentionSql.IsStale(s)})";

    /// <summary>The queues that have entry $1 to trigger (<see cref="Triggerable"/>), and the unique key of its job in each (null: not unique).</summary>
    public static readonly string ScheduleQueues = $$"""
        SELECT s.queue_name, s.unique_key FROM {s}.schedules s WHERE s.entry_key = $1 AND {{Triggerable("s")}} ORDER BY s.queue_name
        """;

    /// <summary>Queue $2 when its entry $1 may be triggered (<see cref="Triggerable"/>), and the unique key of its job (null: not unique).</summary>
    public static readonly string ScheduleQueue = $$"""
        SELECT s.queue_name, s.unique_key FROM {s}.schedules s WHERE s.queue_name = $2 AND s.entry_key = $1 AND {{Triggerable("s")}}
        """;

    /// <summary>
    /// Pause ($2 true) or resume entry $1 in every queue; returns the entries changed. A resume records the instant in the
    /// entry's fires (job id <see cref="ScheduleSql.ResumeRecord"/>), so a scheduler that starts later goes on from there, as
    /// from a fire: the fire times that fell while the entry was paused and no scheduler ran (none recorded them) are not
    /// pushed as its catch-up. A running scheduler recorded those without a job and goes on with its next fire. The record is
    /// dated as the entry's last publication (or now), so an entry resumed to let it go is forgotten with its other fires. Its
    /// time is the half second of the resume's second: fire times are whole seconds, so it never takes the key of a fire.
    /// </summary>
    public static readonly string SetSchedulePaused = SetPaused("entry_key = $1");

    /// <summary><see cref="SetSchedulePaused"/> of the entry $1 of queue $3 alone (a key may be published in several queues).</summary>
    public static readonly string SetQueueSchedulePaused = SetPaused("queue_name = $3 AND entry_key = $1");

    private static string SetPaused(string entries) => $$"""
        WITH changed AS (
            UPDATE {s}.schedules SET paused = $2 WHERE {{entries}} AND paused <> $2
            RETURNING queue_name, entry_key, seen_at
        ),
        resumed AS (
            INSERT INTO {s}.schedule_fires (queue_name, entry_key, fire_time, job_id, created_at)
            SELECT c.queue_name, c.entry_key, date_trunc('second', now()) + interval '0.5 second', {{ScheduleSql.ResumeRecord}}, least(now(), c.seen_at)
            FROM changed c WHERE NOT $2
            ON CONFLICT DO NOTHING
        )
        SELECT count(*)::int FROM changed
        """;

    /// <summary>Upsert worker $1 (host $2, pid $3, started $4, ttl ms $5, queues $6, names $7, running $8, concurrency $9).</summary>
    public const string ReportWorker = """
        INSERT INTO {s}.workers AS w (id, host, pid, started_at, heartbeat_at, expires_at, queues, job_names, running, concurrency)
        VALUES ($1, $2, $3, $4, now(), now() + $5 * interval '1 millisecond', $6, $7, $8, $9)
        ON CONFLICT (id) DO UPDATE
            SET heartbeat_at = now(), expires_at = excluded.expires_at, queues = excluded.queues, job_names = excluded.job_names,
                running = excluded.running, concurrency = excluded.concurrency
        """;

    /// <summary>Forget workers whose report expired more than a lease ago (kept briefly for diagnosis).</summary>
    public const string DeleteExpiredWorkers = "DELETE FROM {s}.workers WHERE expires_at < now() - interval '1 hour'";

    public const string RemoveWorker = "DELETE FROM {s}.workers WHERE id = $1";

    /// <summary>How long throughput minutes are kept.</summary>
    public const int ThroughputKeptHours = 3;

    /// <summary>
    /// Upserts worker $1's totals: arrays $2 minute, $3 queue, $4 completed, $5 failed (each replaces the stored total), and drops
    /// minutes older than <see cref="ThroughputKeptHours"/> (every worker prunes; an index range on the key's leading column).
    /// </summary>
    public static readonly string ReportThroughput = $"""
        WITH pruned AS (
            DELETE FROM {"{s}"}.throughput WHERE minute < now() - interval '{ThroughputKeptHours} hours'
        )
        INSERT INTO {"{s}"}.throughput AS t (minute, queue_name, worker_id, completed, failed)
        SELECT r.minute, r.queue_name, $1, r.completed, r.failed
        FROM unnest($2::timestamptz[], $3::text[], $4::integer[], $5::integer[]) AS r(minute, queue_name, completed, failed)
        ON CONFLICT (minute, queue_name, worker_id) DO UPDATE SET completed = excluded.completed, failed = excluded.failed
        """;

    /// <summary>Finished jobs per minute and queue in [$1, $2), summed over workers, oldest first.</summary>
    public const string GetThroughput = """
        SELECT minute, queue_name, sum(completed)::integer, sum(failed)::integer
        FROM {s}.throughput WHERE minute >= $1 AND minute < $2
        GROUP BY minute, queue_name ORDER BY minute, queue_name COLLATE "C"
        """;

    public const string GetWorkers = """
        SELECT id, host, pid, started_at, heartbeat_at, queues, job_names, running, concurrency
        FROM {s}.workers WHERE expires_at > now() ORDER BY id COLLATE "C"
        """;

    public const string AppendAudit = """
        INSERT INTO {s}.audit_log (actor, action, target, reason, rows_changed) VALUES ($1, $2, $3, $4, $5)
        """;

    public const string GetAudit = """
        SELECT id, at, actor, action, target, reason, rows_changed FROM {s}.audit_log ORDER BY id DESC LIMIT $1
        """;
}
