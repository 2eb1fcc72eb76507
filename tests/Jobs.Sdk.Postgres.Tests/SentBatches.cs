using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A data source that records what it sends: the command texts of every batch, in order (Npgsql calls the tracing batch
/// filter of its own data source, once an activity listener for "Npgsql" exists). Give <see cref="DataSource"/> to the
/// driver under test and read <see cref="Batches"/>.
/// </summary>
public sealed class SentBatches : IAsyncDisposable
{
    private readonly ActivityListener _tracing = new()
    {
        ShouldListenTo = source => source.Name == "Npgsql",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
    };

    public SentBatches(PostgresFixture fixture)
    {
        ActivitySource.AddActivityListener(_tracing);
        var builder = new NpgsqlSlimDataSourceBuilder(fixture.ConnectionString);
        builder.EnableArrays();
        builder.ConfigureTracing(t => t.ConfigureBatchFilter(batch =>
        {
            Batches.Enqueue([.. Enumerable.Select<NpgsqlBatchCommand, string>(batch.BatchCommands, c => c.CommandText)]);
            return false;
        }));
        DataSource = builder.Build();
    }

    /// <summary>The recording data source.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>Every batch sent so far, oldest first, as the command texts it carried.</summary>
    public ConcurrentQueue<string[]> Batches { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        _tracing.Dispose();
    }
}
