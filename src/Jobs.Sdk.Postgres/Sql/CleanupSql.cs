using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Cleanup and retention, one bounded batch per statement (each its own transaction): a batch picks up to $4 rows of
/// queue $1 in state $2 through an index, in index order, locks them by id in id order (rechecking queue and state on
/// the locked versions) and acts on them by <c>ctid</c>.
/// Runnable states (pending, retrying) are read through <c>jobs_runnable_idx</c>, a page of the queue's walk of it per
/// batch (<see cref="RunnablePage"/>), the others through <c>jobs_queue_state_idx</c>; the literal state lists let the
/// planner use those partial indexes in a generic plan too.
/// </summary>
/// <remarks>
/// A batch returns one row: how many rows it picked and how many it changed. They differ when a concurrent transaction
/// (another cleanup, a user's <c>DELETE</c>) changed picked rows first: the batch waits on their row locks and then finds
/// them gone or changed. A batch that changed nothing is therefore no sign that nothing is left; one that picked nothing is.
/// </remarks>
internal static class CleanupSql
{
    /// <summary>Rows per batch: ~50 ms and well under 1 MB of WAL each on a laptop-class server.</summary>
    public const int BatchSize = 5_000;

    private static readonly string Runnable = $"state IN ({Pending}, {Retrying})";
    private static readonly string Settled = $"state NOT IN ({Pending}, {Retrying})";

    /// <summary>A processing row's lease has not ended (one that ended is the lease rescue's: its worker died).</summary>
    private static readonly string LeaseLive = "coalesce(lease_expires_at >= now(), false)";

    /// <summary>
    /// A row last changed more than <paramref name="parameter"/> ms ago (a double precision parameter; null: any age). A
    /// bound on <c>updated_at</c> even in a generic plan, so a batch's index scan stops at the first younger row (written
    /// "$n IS NULL OR updated_at &lt; ...", the condition was a filter there, and the last batch of each state read every
    /// younger row of its queue to find none); <c>updated_at</c> is never null.
    /// </summary>
    private static string OlderThan(string parameter)
        => $"updated_at < coalesce(now() - {parameter}::double precision * interval '1 millisecond', 'infinity')";

    /// <summary>
    /// A row that holds no unique key after it finished: it has no key, has not finished (a paused job: removed as a pending
    /// one is), or finished <c>unique_for</c> ago or longer. One that still holds its key is kept, as retention keeps it (<see cref="JobSql.Complete"/>): deleted, its
    /// key was free again and the next push of it ran the work again within <c>UniqueFor</c>. The next push of the key or a
    /// later cleanup deletes it once its hold is over.
    /// </summary>
    private const string HoldsNoKey = "(unique_key IS NULL OR finished_at IS NULL OR finished_at + coalesce(unique_for, interval '0') <= now())";

    /// <summary>
    /// The rows <see cref="Remove"/> deletes: of queue $1 in state $2, last changed more than $3 ms ago (settled ones: whose
    /// unique key no longer holds, <see cref="HoldsNoKey"/>). Read by its batches and by <see cref="CountRemovable"/>'s (a
    /// dry run), so the two agree.
    /// </summary>
    private static string Removable(bool runnable)
        => $"queue_name = $1 AND state = $2 AND {(runnable ? Runnable : Settled + " AND " + HoldsNoKey)} AND {OlderThan("$3")}";

    /// <summary>
    /// The rows <see cref="RemoveProcessing"/> deletes or marks: processing jobs of queue $1 last changed more than $2 ms
    /// ago, but a running job already being removed (its lease live). Read by its batches and by
    /// <see cref="CountRemovableProcessing"/>'s.
    /// </summary>
    private static readonly string RemovableProcessing =
        $"queue_name = $1 AND state = {Processing} AND {OlderThan("$2")} AND NOT ({LeaseLive} AND delete_requested AND cancel_requested)";

    /// <summary>
    /// One batch of a dry run of <see cref="Remove"/> (changes nothing): how many rows it read and how many of them
    /// <see cref="Remove"/>'s batches would delete now. Settled states: <see cref="Remove"/>'s parameters but the batch
    /// size, $4 where the previous batch ended, $5 the batch size (see <see cref="CountByUpdate"/>); runnable ones: see
    /// <see cref="CountRunnable"/>. Counting a million rows in one statement held one snapshot all along, which slows every
    /// concurrent claim (issue 15).
    /// </summary>
    public static string CountRemovable(bool runnable) => runnable ? CountRunnable : CountByUpdate(Removable(runnable: false), "$4", "$5");

    /// <summary>One batch of a dry run of <see cref="RemoveProcessing"/> ($1 queue, $2 age, $3 where the previous batch ended, $4 the batch size).</summary>
    public static readonly string CountRemovableProcessing = CountByUpdate(RemovableProcessing, "$3", "$4");

    /// <summary>
    /// Counts the rows matching <paramref name="removable"/> (of the state index's states) in <c>jobs_queue_state_idx</c>
    /// order, from after <c>updated_at</c> <paramref name="after"/> (null: the first): up to <paramref name="limit"/> rows,
    /// and then the rest of the rows that share the last one's <c>updated_at</c> (rows one transaction wrote), so that the
    /// next batch starts after it. Returns the rows of the batch proper, the rows counted, and the <c>updated_at</c> to
    /// continue after; a batch of fewer than <paramref name="limit"/> rows is the last.
    /// </summary>
    private static string CountByUpdate(string removable, string after, string limit) => $$"""
        WITH page AS MATERIALIZED (
            SELECT updated_at FROM {s}.jobs
            WHERE {{removable}} AND updated_at > coalesce({{after}}::timestamptz, '-infinity')
            ORDER BY updated_at
            LIMIT {{limit}}
        ), edge AS (
            SELECT count(*) AS picked, max(updated_at) AS last FROM page
        )
        SELECT edge.picked,
               (SELECT count(*) FROM page WHERE updated_at < edge.last)
                   + (SELECT count(*) FROM {s}.jobs WHERE {{removable}} AND updated_at = edge.last),
               edge.last
        FROM edge
        """;

    /// <summary>
    /// One page of the walk (<see cref="RunnablePage"/>) of queue $1's priority $4 from after ($5 run_at, $6 id), up to $7
    /// rows: returns how many it read, how many of them <see cref="Remove"/> would delete (state $2, $3 age), where it
    /// ended and the next lower priority (<see cref="PageEnd"/>).
    /// </summary>
    private static readonly string CountRunnable = $$"""
        WITH {{RunnablePage(Removable(runnable: true), "$4", "$5", "$6", "$7")}}
        SELECT (SELECT count(*) FROM page), (SELECT count(*) FROM page WHERE take), {{PageEnd("$4")}}
        """;

    /// <summary>
    /// The CTE <c>page</c> (<c>id</c>, <c>run_at</c>, <c>take</c>): one page of a walk of queue $1's runnable rows through
    /// <c>jobs_runnable_idx</c>, priority by priority: the rows of priority <paramref name="priority"/> in <c>run_at, id</c>
    /// order from after (<paramref name="runAt"/>, <paramref name="id"/>) (null: the first), up to <paramref name="limit"/>
    /// of them whatever their state and age, each with whether <paramref name="take"/> holds for it. Neither the state (the
    /// index holds pending and retrying rows alike) nor the age bounds that index: a batch that read only the rows of its
    /// state and age read the queue's whole runnable range to find them (300 retrying jobs behind 50,000 pending ones: all
    /// 50,300 entries), and a pass read it once per batch. A page of fewer than <paramref name="limit"/> rows ends its priority.
    /// </summary>
    private static string RunnablePage(string take, string priority, string runAt, string id, string limit) => $$"""
        page AS MATERIALIZED (
            SELECT id, run_at, {{take}} AS take FROM {s}.jobs
            WHERE queue_name = $1 AND {{Runnable}} AND priority = {{priority}}
              AND (run_at, id) > (coalesce({{runAt}}::timestamptz, '-infinity'), coalesce({{id}}::uuid, '00000000-0000-0000-0000-000000000000'))
            ORDER BY run_at, id
            LIMIT {{limit}}
        )
        """;

    /// <summary>
    /// The last columns of a statement over a <see cref="RunnablePage"/> (after its own, and its FROM): where the page ended
    /// (<c>run_at</c>, <c>id</c>; null when it read nothing) and the next lower priority any runnable row of queue $1 has
    /// than <paramref name="priority"/> (null: none, the walk's end).
    /// </summary>
    private static string PageEnd(string priority) => $$"""
        last.run_at, last.id, (SELECT max(priority) FROM {s}.jobs WHERE queue_name = $1 AND {{Runnable}} AND priority < {{priority}})
                FROM (SELECT NULL) one LEFT JOIN (SELECT run_at, id FROM page ORDER BY run_at DESC, id DESC LIMIT 1) last ON true
        """;

    /// <summary>The database clock (the start of a rerun pass).</summary>
    public const string DatabaseNow = "SELECT now()";

    /// <summary>
    /// The CTE <c>targets</c> (<c>target_ctid</c>, <c>target_key</c>, <c>target_state</c>): the rows of <c>picked</c> (by
    /// <c>id</c>) still of queue $1 in state $2, locked in id order, the one order of every statement that locks several
    /// job rows (an operator's cancel and delete, a worker's outcome batch). A batch that wrote the picked rows by their
    /// <c>ctid</c> array locked them in the order a TID scan visits them (the table's physical order), so a cleanup and an
    /// operator's delete or cancel of the same jobs deadlocked and PostgreSQL aborted one of the two. The lock follows a
    /// row updated since the snapshot; queue and state are checked on its last version (<c>locked</c>, by <paramref name="extra"/>
    /// columns as well), whose <c>ctid</c> the batch then writes.
    /// </summary>
    /// <remarks>
    /// The rows are locked by id alone, through the primary key: locked by their <c>ctid</c>s and by queue and state, in id
    /// order, the plan PostgreSQL built while the table was small (young statistics, or a generic plan built then) read
    /// the whole primary key in id order and filtered it by the batch's <c>ctid</c>s, at every batch (a pass over 30,000
    /// finished jobs of a table grown to 50,000 rows read 225,000 entries of <c>jobs_pkey</c>, seconds per batch, with the
    /// rows locked meanwhile); nor may a queue index serve the lock, filtered by the batch's ids. A row found changed (a
    /// worker claimed it) stays locked to the batch's end, unchanged.
    /// </remarks>
    private static string LockedById(string state, string extra = "concurrency_key AS target_key, state AS target_state") => $$"""
        locked AS MATERIALIZED (
            SELECT ctid AS target_ctid, queue_name AS locked_queue, state AS locked_state, {{extra}} FROM {s}.jobs
            WHERE id = ANY (ARRAY(SELECT id FROM picked))
            ORDER BY id FOR UPDATE
        ), targets AS MATERIALIZED (
            SELECT * FROM locked WHERE locked_queue = $1 AND locked_state = {{state}}
        )
        """;

    /// <summary><see cref="LockedById"/> of state $2.</summary>
    private static readonly string LockedInIdOrder = LockedById("$2");

    /// <summary>
    /// Deletes one batch. $3: only rows last changed more than $3 ms ago (null: any age). Settled states: from
    /// <c>updated_at</c> $5 on (<see cref="FromLast"/>); returns the rows picked, the rows deleted and the last picked
    /// row's <c>updated_at</c> (the next batch's $5). Runnable states: one page of the walk (<see cref="RunnablePage"/>) of priority $5 from
    /// after ($6 run_at, $7 id), $4 rows; returns the rows read, the rows deleted and where the page ended (<see cref="PageEnd"/>).
    /// </summary>
    public static string Remove(bool runnable) => runnable ? RemoveRunnable : RemoveSettled;

    /// <summary>The rows a batch deleted, deleted by their locked versions' <c>ctid</c>.</summary>
    private static readonly string Deleted = """
        changed AS (
            DELETE FROM {s}.jobs
            WHERE ctid = ANY (ARRAY(SELECT target_ctid FROM targets))
              AND queue_name = $1 AND state = $2
            RETURNING 1
        )
        """;

    /// <summary>
    /// In the WHERE of a settled state's batch: its rows from the previous batch's last <c>updated_at</c> $5 on (null: the
    /// first batch), a bound of <c>jobs_queue_state_idx</c>'s range. A batch that read its state from the oldest entry on
    /// read again the entries of every row the pass had deleted or put back: they stay in the index until vacuum, and
    /// while another session holds an older snapshot (a long report, <c>pg_dump</c>, a replica's feedback) no scan may
    /// mark them dead, so a pass's work grew with the square of its rows (40,000 finished jobs: 220,000 entries read). A
    /// batch reads again only the rows of the previous one's last <c>updated_at</c> (the rows of one transaction share it).
    /// Rows committed meanwhile with an <c>updated_at</c> before $5 (a transaction that began before the previous batch)
    /// are left to the next pass.
    /// </summary>
    private const string FromLast = "updated_at >= coalesce($5::timestamptz, '-infinity')";

    private static readonly string RemoveSettled = $$"""
        WITH picked AS MATERIALIZED (
            SELECT id, updated_at FROM {s}.jobs
            WHERE {{Removable(runnable: false)}} AND {{FromLast}}
            ORDER BY updated_at
            LIMIT $4
        ), {{LockedInIdOrder}},
        {{Deleted}}
        SELECT (SELECT count(*) FROM picked), (SELECT count(*) FROM changed), (SELECT max(updated_at) FROM picked)
        """;

    private static readonly string RemoveRunnable = $$"""
        WITH {{RunnablePage(Removable(runnable: true), "$5", "$6", "$7", "$4")}},
        picked AS MATERIALIZED (
            SELECT id FROM page WHERE take
        ), {{LockedInIdOrder}},
        {{Deleted}}
        SELECT (SELECT count(*) FROM page), (SELECT count(*) FROM changed), {{PageEnd("$5")}}
        """;

    /// <summary>
    /// Removes one batch of processing jobs. $2: only rows last changed more than $2 ms ago (null: any age); $3: the batch
    /// size; $4: the queue's channel (null: poll-only). A job whose lease ended (its worker died) is deleted at once, as the
    /// lease rescue would remove it. A job a live worker runs is removed as an operator's delete removes it
    /// (<see cref="AdminSql.Delete"/>): it keeps its row, state and lease, with <c>cancel_requested</c> and
    /// <c>delete_requested</c> set, so it keeps its slot in its concurrency key's line and in its queue's global count until
    /// its worker's outcome deletes the row (<see cref="JobSql.Complete"/>), or the rescue does when that worker dies; a
    /// <c>c:{id}:{lease token}</c> notification on $4 tells its handler at once. Deleting it at once let the next job of its
    /// key (or queue) start while its handler still ran, and dropped its outcome. A running job already being removed is not
    /// picked (the pass's loop ends), unless its lease ended meanwhile. Returns the rows picked, deleted and marked, the
    /// notifications sent, and in poll-only mode the marked jobs' ids and lease tokens, pairwise (null when none: this
    /// process tells its own workers).
    /// </summary>
    public static readonly string RemoveProcessing = $$"""
        WITH picked AS MATERIALIZED (
            SELECT id FROM {s}.jobs
            WHERE {{RemovableProcessing}}
            ORDER BY updated_at
            LIMIT $3
        ), {{LockedById(Processing, $"NOT {LeaseLive} AS ended")}}, removed AS (
            DELETE FROM {s}.jobs
            WHERE ctid = ANY (ARRAY(SELECT target_ctid FROM targets WHERE ended))
            RETURNING 1
        ), marked AS (
            UPDATE {s}.jobs SET cancel_requested = true, delete_requested = true, updated_at = now()
            WHERE ctid = ANY (ARRAY(SELECT target_ctid FROM targets WHERE NOT ended)) AND NOT (delete_requested AND cancel_requested)
            RETURNING id, lease_token
        ), notified AS (
            SELECT pg_notify($4, {{JobNotification.SqlCancelRequested("m.id", "m.lease_token")}}) FROM marked m WHERE $4::text IS NOT NULL
        )
        SELECT (SELECT count(*) FROM picked), (SELECT count(*) FROM removed), (SELECT count(*) FROM marked), (SELECT count(*) FROM notified),
               told.ids, told.tokens
        FROM (SELECT array_agg(id) AS ids, array_agg(coalesce(lease_token, '00000000-0000-0000-0000-000000000000')) AS tokens
              FROM marked WHERE $4::text IS NULL) told
        """;

    /// <summary>
    /// Puts one batch back as pending from attempt 1, keeping priority. Processing jobs whose lease is live are left alone
    /// (their worker still runs them). $3: the pass's start (database clock): rows a batch of this pass already put back
    /// are not picked again (their <c>updated_at</c> is at least $3, even should the server's clock step back). Settled
    /// states: from <c>updated_at</c> $5 on; returns the rows picked, the rows put back and the last picked row's
    /// <c>updated_at</c>, as <see cref="Remove"/>'s. Runnable states: one page of the walk, as <see cref="Remove"/>'s.
    /// </summary>
    public static string Rerun(bool runnable) => runnable ? RerunRunnable : RerunSettled;

    /// <summary>The SET items of a rerun (a row goes back as pending from attempt 1, keeping its priority).</summary>
    private static readonly string RerunSet = $"""
        state = {Pending}, key_seq = {ConcurrencyKeySql.NewPlace}, attempts = 0, last_error = NULL, finished_at = NULL, started_at = NULL,
                worker_id = NULL, lease_expires_at = NULL, lease_token = NULL, cancel_requested = false, delete_requested = false, paused_from = NULL,
                run_at = now(), updated_at = greatest(now(), $3)
        """;

    private static readonly string RerunRunnable = $$"""
        WITH {{RunnablePage("state = $2 AND updated_at < $3", "$5", "$6", "$7", "$4")}},
        picked AS MATERIALIZED (
            SELECT id FROM page WHERE take
        ), {{LockedInIdOrder}},
        {{ConcurrencyKeySql.LockPairs($"(SELECT $1::text, target_key FROM targets WHERE target_state NOT IN ({ConcurrencyKeySql.Unfinished}))")}},
        changed AS (
            UPDATE {s}.jobs
            SET {{RerunSet}}
            WHERE ctid = ANY (ARRAY(SELECT target_ctid FROM targets))
              AND queue_name = $1 AND state = $2 AND (SELECT count(*) FROM key_locks) >= 0
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM page), (SELECT count(*) FROM changed), {{PageEnd("$5")}}
        """;

    /// <summary>
    /// Settled rows (and processing ones whose lease ended) put back. A finished unique job goes back only with its key
    /// (<see cref="UniqueRetrySql"/>): one whose released key another job holds now is not picked (and stays as it was).
    /// The update finds its rows by id alone: they are locked, and their queue and state were checked on the locked rows
    /// (<c>targets</c>); asked for them as well, the plan read the queue's state range of <c>jobs_queue_state_idx</c> and
    /// compared each of its rows with every row of <c>put_back</c> (a batch of 5,000: 24,995,000 comparisons).
    /// </summary>
    private static readonly string RerunSettled = $$"""
        WITH picked AS MATERIALIZED (
            SELECT id, queue_name, unique_key, released_unique_key, updated_at FROM {s}.jobs p
            WHERE queue_name = $1 AND state = $2 AND {{Settled}} AND updated_at < $3 AND {{FromLast}}
              AND (state <> {{Processing}} OR lease_expires_at IS NULL OR lease_expires_at < now())
              AND (p.unique_key IS NOT NULL OR p.released_unique_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM {s}.jobs h WHERE h.queue_name = $1 AND h.unique_key = p.released_unique_key AND h.unique_key IS NOT NULL
                      AND (h.state NOT IN ({{Completed}}, {{Failed}}, {{Cancelled}})
                          OR coalesce(h.finished_at, h.updated_at) + coalesce(h.unique_for, interval '0') > now())))
            ORDER BY updated_at
            LIMIT $4
        ), seen AS MATERIALIZED (
            SELECT id, queue_name, unique_key, released_unique_key FROM picked
        ),
        {{UniqueRetrySql.PutBack("seen", "queue_name = $1 AND state = $2")}},
        {{UniqueRetrySql.LockPutBackKeys}},
        changed AS (
            UPDATE {s}.jobs j
            SET {{RerunSet}},
                {{UniqueRetrySql.SetKey("j", "p")}}
            FROM put_back p
            WHERE j.id = p.put_id AND {{UniqueRetrySql.AfterUnkeyed("p")}}
                AND (SELECT count(*) FROM key_locks) >= 0
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM picked), (SELECT count(*) FROM changed), (SELECT max(updated_at) FROM picked)
        """;
}
