namespace Jobs.Sdk.Postgres;

/// <summary>Retention of <c>{s}.audit_log</c> (<see cref="RetentionPolicy.AuditLog"/>), run with each worker's rescue pass.</summary>
internal static class AuditRetentionSql
{
    /// <summary>Entries per batch: each batch is its own short transaction.</summary>
    public const int BatchSize = 1_000;

    /// <summary>
    /// Deletes up to $2 entries recorded more than $1 ms ago, oldest first, read through <c>audit_log_at_idx</c> (migration
    /// 0016): when none is that old, one index probe. Returns the rows deleted.
    /// </summary>
    public const string DeleteOld = """
        DELETE FROM {s}.audit_log
        WHERE id = ANY (ARRAY(SELECT id FROM {s}.audit_log WHERE at < now() - $1 * interval '1 millisecond' ORDER BY at LIMIT $2))
        """;
}
