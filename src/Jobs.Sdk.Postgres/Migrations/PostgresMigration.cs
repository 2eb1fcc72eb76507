namespace Jobs.Sdk.Postgres;

/// <summary>One versioned schema change of the PostgreSQL driver.</summary>
/// <param name="Version">Position in the migration list (1-based, no gaps).</param>
/// <param name="Name">Stable name recorded in the migrations table.</param>
/// <param name="Sql">The SQL, with the schema already substituted.</param>
public sealed record PostgresMigration(int Version, string Name, string Sql)
{
    /// <summary>
    /// The oldest schema version (the number of migrations a Jobs.Sdk.Postgres version knows) whose code still works once
    /// this migration is applied: older code refuses the schema, code at or after it runs against it (rolling deploys
    /// and rollbacks). Declared in the script by a <c>-- jobs:compatible-from &lt;migration name&gt;</c> line; by default
    /// the migration's own <see cref="Version"/> (only code that knows it is compatible).
    /// </summary>
    public int CompatibleFrom { get; init; }

    /// <summary>
    /// False for a step that must run outside a transaction (<c>CREATE INDEX CONCURRENTLY</c>), marked by a
    /// <c>-- jobs:no-transaction</c> line: its statements run one by one in autocommit mode and must be idempotent
    /// (<c>IF NOT EXISTS</c>), since a failure part-way is retried from its first statement. Before a
    /// <c>CREATE INDEX CONCURRENTLY IF NOT EXISTS</c>, an invalid index of that name (left by a build that failed part-way)
    /// is dropped, so the retry builds it again instead of skipping it. A <c>CREATE INDEX CONCURRENTLY</c> runs without the
    /// migrations' <c>lock_timeout</c>: it waits for older transactions however long they stay open (which blocks no reads
    /// or writes) until they end or the migration is cancelled.
    /// </summary>
    public bool RunsInTransaction { get; init; } = true;
}
