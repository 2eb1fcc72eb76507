namespace Jobs.Sdk.Postgres;

/// <summary>
/// SQL of the PostgreSQL admin store's pages of its queue and schedule lists (<c>IPagedAdminCatalogs</c>): a page is read
/// after the last key of the page before (keyset, <c>LIMIT</c>), in byte order (<c>COLLATE "C"</c>, whatever the
/// database's collation), and only the page's queues get their details read (counts, oldest waiting job, pause, workers:
/// <see cref="AdminSql.QueueOldestWaiting"/> probes the runnable index once per queue and priority, 10,000 queues 50,000
/// times). <c>{s}</c> is the quoted schema.
/// </summary>
/// <remarks>
/// The existing indexes on the names (<c>job_state_counts_queue_idx</c>, <c>queues_pkey</c>, <c>schedules_pkey</c>) are in
/// the database's collation, so they serve the byte order only on a database whose collation is C: elsewhere the walk
/// sorts the candidate names (the count rows, O(queues x states); the schedule rows) on the server, and sends a page.
/// </remarks>
internal static class AdminPageSql
{
    /// <summary>
    /// The queues the admin list names (<see cref="QueueCountRows.QueuesWithJobs"/>: a state whose count is not 0;
    /// paused; served by a live worker), as in <see cref="PostgresJobAdminStore.GetQueuesAsync"/>.
    /// </summary>
    internal const string ListedQueues = """
        SELECT queue_name AS name FROM {s}.job_state_counts GROUP BY queue_name, state HAVING sum(n) <> 0
        UNION
        SELECT name FROM {s}.queues WHERE paused
        UNION
        SELECT q FROM {s}.workers, unnest(queues) AS q WHERE expires_at > now()
        """;

    /// <summary>
    /// The names of the listed queues after $1 ('' for the first page: no name is empty), byte order, at most $2, each
    /// with how many queues are listed in all; one row with a null name when none is after $1.
    /// </summary>
    public const string QueueNames = $"""
        WITH names AS ({ListedQueues})
        SELECT p.name, t.total
        FROM (SELECT count(*) AS total FROM names) t
        LEFT JOIN LATERAL (
            SELECT n.name FROM names n WHERE n.name COLLATE "C" > $1::text COLLATE "C" ORDER BY n.name COLLATE "C" LIMIT $2
        ) p ON true
        ORDER BY p.name COLLATE "C"
        """;

    /// <summary>Per-state totals of the queues $1 and how many delta rows made them, as <see cref="CountSql.ReadAll"/> reads every queue's.</summary>
    public const string CountsOf = """
        SELECT queue_name, state, sum(n)::bigint, count(*) FROM {s}.job_state_counts WHERE queue_name = ANY($1::text[]) GROUP BY 1, 2
        """;

    /// <summary>The oldest due run time of each of the queues $1 that has one, as <see cref="AdminSql.QueueOldestWaiting"/> reads every queue's.</summary>
    public static readonly string OldestWaitingOf = AdminSql.OldestWaitingOf("unnest($1::text[]) AS c(queue_name)");

    /// <summary>The paused queues among $1, as <see cref="AdminSql.QueueStates"/>.</summary>
    public const string StatesOf = "SELECT name, paused, reason, paused_at FROM {s}.queues WHERE paused AND name = ANY($1::text[])";

    /// <summary>The live workers of each of the queues $1 served, as <see cref="AdminSql.LiveWorkersPerQueue"/>.</summary>
    public const string LiveWorkersOf = """
        SELECT q, count(*) FROM {s}.workers, unnest(queues) AS q WHERE expires_at > now() AND q = ANY($1::text[]) GROUP BY q
        """;

    /// <summary>
    /// The schedule entries after entry ($1 queue, $2 entry key) ('', '' for the first page: no queue name is empty), byte
    /// order of queue then entry key, at most $3, with the columns of <see cref="AdminSql.GetSchedules"/>: the last fire of
    /// the page's entries only.
    /// </summary>
    public static readonly string SchedulePage = $$"""
        SELECT s.queue_name, s.entry_key, s.job_name, s.description,
               (SELECT max(f.fire_time) FROM {s}.schedule_fires f WHERE f.queue_name = s.queue_name AND f.entry_key = s.entry_key
                AND f.job_id <> {{ScheduleSql.ResumeRecord}}),
               s.next_fire, s.paused, s.seen_at, {{ScheduleRetentionSql.IsStale("s")}}
        FROM (
            SELECT * FROM {s}.schedules
            WHERE (queue_name COLLATE "C", entry_key COLLATE "C") > ($1::text COLLATE "C", $2::text COLLATE "C")
            ORDER BY queue_name COLLATE "C", entry_key COLLATE "C"
            LIMIT $3
        ) s
        ORDER BY s.queue_name COLLATE "C", s.entry_key COLLATE "C"
        """;
}
