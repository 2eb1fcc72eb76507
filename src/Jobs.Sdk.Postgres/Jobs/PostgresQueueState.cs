using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>Whether a queue is paused, for workers that hold claimed jobs they have not started (the fallback when no pause notification arrives).</summary>
internal sealed class PostgresQueueState(PostgresQueueContext context)
{
    private readonly string _isPausedSql = context.Sql(QueueStateSql.IsPaused);

    public async Task<bool> IsPausedAsync(CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return await context.Commands.ScalarAsync(_isPausedSql, [Text(context.Queue)], SqlRun.Prepare, cancellationToken).ConfigureAwait(false) is true;
    }
}
