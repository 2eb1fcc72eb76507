namespace Jobs.Sdk.Cli;

/// <summary>The doctor's read-only queries. <c>{s}</c> is the quoted schema; $1 (where used) the plain schema name.</summary>
internal static class DoctorSql
{
    public const string MigrationsTableExists = "SELECT to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL";

    // compatible_from came with 0005_rolling_deploys: read through to_jsonb so that older schemas answer NULL.
    public const string Applied = "SELECT version, name, (to_jsonb(m) ->> 'compatible_from')::integer FROM {s}.schema_migrations m ORDER BY version";

    /// <summary>
    /// Indexes of the jobs table: name, whether it is valid (a failed CREATE INDEX CONCURRENTLY leaves it invalid), and its
    /// definition without its name (two indexes with the same one are copies).
    /// </summary>
    public const string Indexes = """
        SELECT c.relname, i.indisvalid, substring(pg_get_indexdef(i.indexrelid) FROM ' ON .*$') || CASE WHEN i.indisunique THEN ' unique' ELSE '' END
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = to_regclass(quote_ident($1) || '.jobs')
        """;

    /// <summary>Statistics of the schema's tables: name, live and dead tuples, sizes, last (auto)vacuum.</summary>
    public const string TableStats = """
        SELECT c.relname::text, coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0), pg_table_size(c.oid), pg_indexes_size(c.oid),
               greatest(s.last_vacuum, s.last_autovacuum)
        FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE c.relnamespace = to_regnamespace(quote_ident($1)) AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """;

    /// <summary>The oldest transaction that holds back vacuum's horizon (other than this session).</summary>
    public const string OldestTransaction = """
        SELECT pid, extract(epoch FROM now() - xact_start)::double precision, coalesce(state, ''), coalesce(usename, ''),
               left(coalesce(query, ''), 120)
        FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND xact_start IS NOT NULL AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)
        ORDER BY xact_start
        LIMIT 1
        """;

    /// <summary>
    /// Processing jobs whose lease expired more than a minute ago (rescue should have requeued them), per queue. Reads the
    /// processing rows of each queue that has some (by the counts), through <c>jobs_queue_state_idx</c>: a filter on the
    /// state alone walked that whole index, every finished row of every queue, in one statement (issue 15).
    /// </summary>
    public const string ExpiredLeases = """
        SELECT c.queue_name, x.n
        FROM (SELECT queue_name FROM {s}.job_state_counts WHERE state = 1 GROUP BY 1 HAVING sum(n) > 0) c
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM {s}.jobs j
            WHERE j.queue_name = c.queue_name AND j.state = 1 AND j.lease_expires_at < now() - interval '1 minute'
        ) x
        WHERE x.n > 0
        ORDER BY 2 DESC
        """;

    /// <summary>Due rows the unhandled-jobs check reads at most per queue and priority (<see cref="Unhandled"/>).</summary>
    public const int UnhandledWindow = 10_000;

    /// <summary>
    /// Due jobs (per queue and name) that no live worker has a handler for, and whether a count is only a lower bound.
    /// Reads the due rows of each queue that has runnable ones (by the counts), per priority, through
    /// <c>jobs_runnable_idx</c> as the claim does: the state filter alone read the whole table or the whole runnable
    /// index, finished history or delayed backlog included, in one statement (issue 15). And at most
    /// <see cref="UnhandledWindow"/> of them per queue and priority, the longest due (their ids from the index alone,
    /// then their names by id): counting every due row read a due backlog whole in one statement. A job no worker
    /// handles waits longest, so its name is in the window unless more handled jobs are due before it than the window
    /// holds (the workers are that far behind); a name's count is then "at least".
    /// </summary>
    public static readonly string Unhandled = $"""
        SELECT c.queue_name, j.name, sum(j.n)::bigint, bool_or(w.full)
        FROM (SELECT queue_name FROM {"{s}"}.job_state_counts WHERE state IN (0, 2) GROUP BY 1 HAVING sum(n) > 0) c
        CROSS JOIN unnest('{Postgres.SqlCodes.ClaimPriorities}'::smallint[]) AS p(priority)
        CROSS JOIN LATERAL (
            SELECT array_agg(d.id) AS ids, count(*) = {UnhandledWindow} AS full FROM (
                SELECT id FROM {"{s}"}.jobs
                WHERE queue_name = c.queue_name AND state IN (0, 2) AND priority = p.priority AND run_at <= now()
                ORDER BY run_at, id
                LIMIT {UnhandledWindow}
            ) d
        ) w
        CROSS JOIN LATERAL (
            SELECT j.name, count(*) AS n FROM {"{s}"}.jobs j
            WHERE j.id = ANY (w.ids) AND j.queue_name = c.queue_name AND j.state IN (0, 2)
            GROUP BY j.name
        ) j
        WHERE NOT EXISTS (SELECT 1 FROM {"{s}"}.workers wk
                          WHERE wk.expires_at > now() AND c.queue_name = ANY (wk.queues) AND j.name = ANY (wk.job_names))
        GROUP BY 1, 2 ORDER BY 3 DESC
        LIMIT 20
        """;

    public const string LiveWorkers = "SELECT count(*) FROM {s}.workers WHERE expires_at > now()";

    public const string NotificationQueueUsage = "SELECT pg_notification_queue_usage()";
}
