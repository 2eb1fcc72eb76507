namespace Jobs.Sdk.Postgres;

/// <summary>What every statement of one queue needs: where to run it, the queue, the quoted schema, readiness, wake-ups.</summary>
internal sealed class PostgresQueueContext(PostgresCommands commands, string queue, string schema, PostgresSchemaGate gate, PostgresNotifier notifier)
{
    private readonly string _quotedSchema = PostgresIdentifier.Quote(schema);

    public PostgresCommands Commands => commands;

    public string Queue => queue;

    public PostgresSchemaGate Gate => gate;

    public PostgresNotifier Notifier => notifier;

    /// <summary>The NOTIFY channel statements take as a parameter (null in poll-only mode).</summary>
    public string? Channel => notifier.Channel;

    /// <summary><paramref name="sql"/> with the quoted schema in place of <c>{s}</c> (done once, when the driver is built).</summary>
    public string Sql(string sql) => sql.Replace("{s}", _quotedSchema, StringComparison.Ordinal);
}
