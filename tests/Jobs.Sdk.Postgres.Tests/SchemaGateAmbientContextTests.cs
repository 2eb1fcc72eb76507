using System.Diagnostics;
using System.Transactions;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The schema gate (the pooler probe, then the migrations or their check) runs once per driver, started by whichever caller
/// first needs the store: the host's start, or, without it (no <c>MigrateOnStartup</c> service, a producer-only app), the
/// first push. It is the process's own work, shared by every caller: it must not run in that first caller's ambient
/// transaction nor in its trace.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SchemaGateAmbientContextTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The first push of a process on a new schema is made in a <see cref="TransactionScope"/> that is rolled back. The
    /// queue is usable afterwards: the migrations committed on their own, and a push outside the scope is stored. Passes as
    /// written (a guard: the ambient transaction did not reach the gate's connections before the fix either).
    /// </summary>
    [Fact]
    public async Task A_first_push_in_a_rolled_back_TransactionScope_leaves_the_queue_usable()
    {
        await using var app = await ProducerApp.CreateAsync(fixture);
        using (new TransactionScope(TransactionScopeOption.Required, TransactionScopeAsyncFlowOption.Enabled))
        {
            await app.Queue.PushAsync(new ValueJob(1)).WaitAsync(Guard); // not completed: rolled back
        }

        var id = await app.Queue.PushAsync(new ValueJob(2)).WaitAsync(Guard);
        Assert.NotNull(await app.Queue.GetJobAsync(id));
    }

    /// <summary>
    /// The first push of a process on a new schema is made inside a request span. The migrations' statements are not in
    /// that request's trace (they serve every caller, and go on retrying after the request gave up).
    /// </summary>
    [Fact]
    public async Task A_first_push_in_a_request_span_runs_the_migrations_outside_its_trace()
    {
        using var statements = new NpgsqlStatements();
        await using var app = await ProducerApp.CreateAsync(fixture);

        ActivityTraceId request;
        using (var span = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            request = span.TraceId;
            await app.Queue.PushAsync(new ValueJob(1)).WaitAsync(Guard);
        }

        var migrations = statements.Ran.Where(s => s.Text.Contains("CREATE TABLE", StringComparison.OrdinalIgnoreCase)).ToArray();
        Assert.NotEmpty(migrations);
        var inRequest = migrations.Count(s => s.TraceId == request);
        Assert.True(inRequest == 0, $"{inRequest} of the {migrations.Length} migration statements belong to the trace of the request that pushed first");
    }

    /// <summary>A process that only pushes, on a schema of its own, whose driver has not checked the schema yet.</summary>
    private sealed class ProducerApp : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;
        private readonly Npgsql.NpgsqlDataSource _dataSource;
        private readonly string _schema;

        private ProducerApp(ServiceProvider provider, Npgsql.NpgsqlDataSource dataSource, string schema)
        {
            _provider = provider;
            _dataSource = dataSource;
            _schema = schema;
            Queue = provider.GetRequiredService<JobQueue>();
        }

        public JobQueue Queue { get; }

        public static Task<ProducerApp> CreateAsync(PostgresFixture fixture)
        {
            var schema = "gate_ctx_" + Guid.NewGuid().ToString("N")[..8];
            var dataSource = fixture.CreateDataSource();
            var services = new ServiceCollection();
            services.AddJobs(b =>
            {
                b.UsePostgres(dataSource, o =>
                {
                    o.Schema = schema;
                    o.QueueName = "default";
                });
                b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask);
            });
            return Task.FromResult(new ProducerApp(services.BuildServiceProvider(), dataSource, schema));
        }

        public async ValueTask DisposeAsync()
        {
            await _provider.DisposeAsync();
            await _dataSource.ExecAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
            await _dataSource.DisposeAsync();
        }
    }
}
