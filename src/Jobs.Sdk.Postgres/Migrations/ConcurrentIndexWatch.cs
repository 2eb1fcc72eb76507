using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Watches a migrating session's <c>CREATE INDEX CONCURRENTLY</c> from a second connection of the data source (taken at
/// the first report, so a quick build takes none) and reports, per <see cref="MigrationWaitReport"/>, the sessions it
/// waits for. Watching never fails the migration: a read that fails is retried at the next report on a new connection.
/// </summary>
internal static class ConcurrentIndexWatch
{
    /// <summary>Watches until <paramref name="cancellationToken"/> is cancelled (when the statement ended); never throws.</summary>
    public static async Task RunAsync(NpgsqlDataSource dataSource, int pid, string schema, string migration, string index, MigrationWaitReport report,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = report.First;
        NpgsqlConnection? observer = null;
        try
        {
            while (true)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = report.Every;
                try
                {
                    observer ??= await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                    var (phase, sessions) = await ReadAsync(observer, pid, cancellationToken).ConfigureAwait(false);
                    if (sessions.Count > 0)
                    {
                        var waited = TimeSpan.FromSeconds(Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds));
                        report.Waiting(new ConcurrentIndexWait(schema, migration, index, waited, phase, sessions));
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    // The report is a courtesy: the build goes on. A new connection at the next one.
                    if (observer is not null)
                    {
                        await observer.DisposeAsync().ConfigureAwait(false);
                        observer = null;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (observer is not null)
            {
                await observer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<(string Phase, List<BlockingSession> Sessions)> ReadAsync(NpgsqlConnection observer, int pid, CancellationToken cancellationToken)
    {
        var sessions = new List<BlockingSession>();
        var phase = "waiting";
        var command = new NpgsqlCommand(MigrationSql.IndexBuildBlockers, observer);
        await using var commandDisposal = command.ConfigureAwait(false);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid, NpgsqlDbType = NpgsqlDbType.Integer });
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                sessions.Add(new BlockingSession(
                    reader.GetInt32(0),
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : TimeSpan.FromSeconds(reader.GetDouble(3))));
                if (!reader.IsDBNull(4))
                {
                    phase = reader.GetString(4);
                }
            }
        }

        return (phase, sessions);
    }
}
