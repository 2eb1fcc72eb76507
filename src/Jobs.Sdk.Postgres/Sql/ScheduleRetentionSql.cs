namespace Jobs.Sdk.Postgres;

/// <summary>
/// Staleness and retention of the published schedule entries (<c>{s}.schedules</c>): every scheduler republishes its entries
/// every third of its lease and records how long that holds (<c>publish_ttl</c>, migration 0016). An entry no running
/// scheduler republished within it is stale: a deploy removed it (or an edited schedule gave it a new key), or every process
/// that runs it is down. Several versions may run side by side during a rolling deploy: an entry any live process still
/// publishes is refreshed by it, whoever else dropped it, so it is neither stale nor deleted.
/// </summary>
internal static class ScheduleRetentionSql
{
    /// <summary>How long a publication holds when its publisher did not say (code from before migration 0016).</summary>
    public const string DefaultTimeToLive = "10 minutes";

    /// <summary>How long after its last publication an entry that is not paused is deleted, with its fire records.</summary>
    public const string ForgetAfter = "7 days";

    /// <summary>Fire records one publish deletes at most.</summary>
    public const int FiresPerBatch = 5_000;

    /// <summary>Whether the entry of <c>schedules</c> row <paramref name="s"/> is stale (a SQL expression).</summary>
    public static string IsStale(string s) => $"{s}.seen_at + coalesce({s}.publish_ttl, interval '{DefaultTimeToLive}') < now()";

    /// <summary>
    /// Whether the entry of <c>schedules</c> row <paramref name="s"/> was published within half its time to live (a SQL
    /// expression): a republish that changes nothing in it leaves its row alone (<see cref="AdminSql.PublishSchedules"/>).
    /// A scheduler republishes every third of its time to live, so it refreshes its unchanged entries every other publish,
    /// each at most five sixths of its time to live after the last, before it would be stale; with several schedulers of the
    /// same entries, the first one past the half refreshes them for all.
    /// </summary>
    public static string IsFresh(string s) => $"{s}.seen_at + coalesce({s}.publish_ttl, interval '{DefaultTimeToLive}') / 2 >= now()";

    /// <summary>An entry to forget: not paused (a pause must survive its publishers' absence) and unpublished for <see cref="ForgetAfter"/>.</summary>
    private static string Forgotten(string s) => $"NOT {s}.paused AND {s}.seen_at < now() - interval '{ForgetAfter}'";

    /// <summary>
    /// Run with each publish: one batch of fire records of forgotten entries (only records written before the entry was
    /// forgotten: a scheduler that fires it again writes newer ones, which keep it), then the forgotten entries without fire
    /// records left. A large backlog of records goes over several publishes.
    /// </summary>
    public static readonly string DeleteForgottenFires = $$"""
        DELETE FROM {s}.schedule_fires
        WHERE ctid = ANY (ARRAY(
            SELECT f.ctid FROM {s}.schedules s
            JOIN {s}.schedule_fires f ON f.queue_name = s.queue_name AND f.entry_key = s.entry_key
            WHERE {{Forgotten("s")}} AND f.created_at < now() - interval '{{ForgetAfter}}'
            LIMIT {{FiresPerBatch}}))
        """;

    /// <summary>See <see cref="DeleteForgottenFires"/>; the row's conditions are checked again on the row a concurrent publish may have refreshed.</summary>
    public static readonly string DeleteForgottenEntries = $$"""
        DELETE FROM {s}.schedules s
        WHERE {{Forgotten("s")}}
          AND NOT EXISTS (SELECT 1 FROM {s}.schedule_fires f WHERE f.queue_name = s.queue_name AND f.entry_key = s.entry_key)
        """;
}
