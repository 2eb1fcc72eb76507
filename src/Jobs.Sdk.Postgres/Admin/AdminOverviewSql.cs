namespace Jobs.Sdk.Postgres;

/// <summary>
/// SQL of the PostgreSQL admin store's summary of its queue list for the dashboard's overview (<c>IAdminQueueOverview</c>):
/// aggregated on the server, each a row or a few, so that a refresh sends the totals, two counts, the oldest waiting job
/// and the busiest queues' names, then the details of those queues only (<see cref="AdminPageSql"/>), not every queue's.
/// <c>{s}</c> is the quoted schema.
/// </summary>
/// <remarks>
/// The server still reads every count row and, for <see cref="OldestWaiting"/>, probes the runnable index once per queue
/// with due-able jobs and priority, as the whole list does (<see cref="AdminSql.QueueOldestWaiting"/>): what is saved is
/// what the server sends and the client decodes.
/// </remarks>
internal static class AdminOverviewSql
{
    /// <summary>The jobs per state over every queue: state, total.</summary>
    public const string Totals = "SELECT state, sum(n)::bigint FROM {s}.job_state_counts GROUP BY state";

    /// <summary>How many queues the admin list names (<see cref="AdminPageSql.ListedQueues"/>), and how many are paused (<see cref="AdminSql.QueueStates"/>).</summary>
    public const string QueueCounts = $$"""
        SELECT (SELECT count(*) FROM ({{AdminPageSql.ListedQueues}}) names), (SELECT count(*) FROM {s}.queues WHERE paused)
        """;

    /// <summary>The oldest due run time of any queue (null when none is due): the least of <see cref="AdminSql.QueueOldestWaiting"/>'s, one row.</summary>
    public static readonly string OldestWaiting = $$"""
        SELECT min(o.run_at) FROM ({{AdminSql.QueueOldestWaiting}}) AS o(queue_name, run_at)
        """;

    /// <summary>
    /// The names of at most $1 listed queues, the busiest first: the most jobs pending, processing, retrying or failed
    /// (states 0, 1, 2, 4), then by name in byte order (as the dashboard orders them: ordinal).
    /// </summary>
    public const string Busiest = $$"""
        WITH names AS ({{AdminPageSql.ListedQueues}}),
        busy AS (SELECT queue_name, sum(n) AS busy FROM {s}.job_state_counts WHERE state IN (0, 1, 2, 4) GROUP BY 1)
        SELECT n.name FROM names n LEFT JOIN busy b ON b.queue_name = n.name
        ORDER BY coalesce(b.busy, 0) DESC, n.name COLLATE "C"
        LIMIT $1
        """;
}
