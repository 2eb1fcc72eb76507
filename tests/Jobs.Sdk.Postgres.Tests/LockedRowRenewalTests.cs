using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker renews the leases of its running jobs of one queue in one statement, which locks their rows. Another session
/// that holds one running job's row (an operator's <c>BEGIN; UPDATE jobs …</c> left idle in transaction, an admin action
/// stuck in its transaction) must not cost the queue's other running jobs their leases: lost, their handlers are cancelled
/// and the lease rescue runs the jobs again elsewhere. The held row's own lease is not lost for a look either: it is
/// renewed again once the row is free.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LockedRowRenewalTests(PostgresFixture fixture)
{
    /// <summary>
    /// One host, a 3 s lease, four jobs running (their handlers wait for the test); the test's own connection updates one
    /// running job's row in a transaction it leaves open. The three other jobs' leases must be renewed past two leases from
    /// then and their handlers not cancelled; the renewal that could not renew the held row logs it once (event 1018),
    /// naming the job and the session that holds it.
    /// </summary>
    [Fact]
    public async Task A_running_jobs_row_another_session_holds_does_not_stop_the_renewals_of_the_queues_other_running_jobs()
    {
        var lease = TimeSpan.FromSeconds(3);
        await using var run = await RunningJobs.StartAsync(fixture, lease);
        var held = run.Ids[0];
        await using var locker = await run.Host.DataSource.OpenConnectionAsync();
        try
        {
            var holder = await HoldAsync(locker, held);
            var heldAt = await run.NowAsync();

            var others = run.Ids.Skip(1).ToArray();
            DateTime? earliest = null;
            await TestExtensions.EventuallyAsync(async () =>
                {
                    earliest = await run.EarliestLeaseEndAsync(others);
                    return earliest > heldAt + 2 * lease;
                }, 20,
                () => $"The leases (3 s) of the queue's {others.Length} other running jobs were not renewed while another session held one running " +
                      $"job's row: the earliest expires at {(earliest is null ? "(lost: a claim was rescued)" : earliest.Value.ToString("HH:mm:ss.fff"))}, " +
                      $"the row is held since {heldAt:HH:mm:ss.fff} (the renewal waited for it); " +
                      $"handlers cancelled: {run.CancelledAmong(others)} of {others.Length}");
            Assert.Equal(0, run.CancelledAmong(others));

            var logged = Assert.Single(run.Log.Warnings, static w => w.Entry.Contains("[1018]", StringComparison.Ordinal));
            Assert.Contains(held.ToString(), logged.Entry, StringComparison.Ordinal);
            Assert.Contains("pid " + holder, logged.Entry, StringComparison.Ordinal);
            Assert.Empty(run.Log.Errors);
        }
        finally
        {
            await locker.CloseAsync(); // rolls the open transaction back
        }
    }

    /// <summary>
    /// One host, a 9 s lease, four jobs running; the test's connection holds one running job's row until a renewal could
    /// not renew it (event 1018), then rolls back. That job's lease must be renewed again at the next renewal and its
    /// handler not cancelled: an operator who looked at a running job for a moment does not cost it its lease.
    /// </summary>
    [Fact]
    public async Task A_running_jobs_row_held_for_a_moment_keeps_its_lease_and_is_renewed_once_free()
    {
        var lease = TimeSpan.FromSeconds(9);
        await using var run = await RunningJobs.StartAsync(fixture, lease);
        var held = run.Ids[0];
        await using var locker = await run.Host.DataSource.OpenConnectionAsync();
        try
        {
            await HoldAsync(locker, held);
            await TestExtensions.EventuallyAsync(() => Task.FromResult(run.Log.Warnings.Any(static w => w.Entry.Contains("[1018]", StringComparison.Ordinal))), 20,
                () => "A renewal did not report the running job's row another session holds (event 1018): the renewal waits for it; warnings: " + string.Join(" // ", run.Log.Warnings.Select(w => w.Entry)));
            await using (var rollback = new NpgsqlCommand("ROLLBACK", locker))
            {
                await rollback.ExecuteNonQueryAsync();
            }

            var freedAt = await run.NowAsync();
            DateTime? expires = null;
            await TestExtensions.EventuallyAsync(async () =>
                {
                    expires = await run.EarliestLeaseEndAsync([held]);
                    return expires > freedAt + lease / 2;
                }, 20,
                () => $"The held job's lease was not renewed once its row was free (since {freedAt:HH:mm:ss.fff}): it expires at {expires:HH:mm:ss.fff}; " +
                      $"its handler was {(run.CancelledAmong([held]) > 0 ? "cancelled" : "not cancelled")}");
            Assert.Equal(0, run.CancelledAmong(run.Ids));
            Assert.Empty(run.Log.Errors);
        }
        finally
        {
            await locker.CloseAsync();
        }
    }

    /// <summary>Updates <paramref name="id"/>'s row in a transaction left open on <paramref name="locker"/>, as an operator's session; returns its pid.</summary>
    private static async Task<int> HoldAsync(NpgsqlConnection locker, JobId id)
    {
        await using (var begin = new NpgsqlCommand("BEGIN", locker))
        {
            await begin.ExecuteNonQueryAsync();
        }

        await using var update = new NpgsqlCommand("UPDATE jobs_test.jobs SET updated_at = updated_at WHERE id = $1", locker);
        update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
        return locker.ProcessID;
    }

    /// <summary>A host with four jobs of its queue running, their handlers waiting for the end of the test.</summary>
    private sealed class RunningJobs : IAsyncDisposable
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<JobId, bool> _started = new();
        private readonly ConcurrentDictionary<JobId, bool> _cancelled = new();
        private Guid[] _tokens = []; // the running claims' lease tokens

        private RunningJobs()
        {
        }

        public TestQueue Host { get; private set; } = null!;

        public LevelLog Log { get; } = new();

        public JobId[] Ids { get; private set; } = [];

        public static async Task<RunningJobs> StartAsync(PostgresFixture fixture, TimeSpan lease)
        {
            var run = new RunningJobs();
            var queueName = "rowlock_" + Guid.NewGuid().ToString("N")[..8];
            run.Host = await TestQueue.CreateAsync(fixture,
                b =>
                {
                    b.Services.AddLogging(l => l.AddProvider(run.Log));
                    b.AddJob<ValueJob>(async (_, c, ct) =>
                    {
                        run._started[c.Id] = true;
                        try
                        {
                            await run._release.Task.WaitAsync(ct);
                        }
                        catch (OperationCanceledException)
                        {
                            run._cancelled[c.Id] = true;
                            throw;
                        }
                    });
                },
                worker: o =>
                {
                    o.LeaseDuration = lease;
                    o.Concurrency = 4;
                },
                queueName: queueName);
            var ids = new List<JobId>();
            for (var i = 0; i < 4; i++)
            {
                ids.Add(await run.Host.Queue.PushAsync(new ValueJob(i)));
            }

            run.Ids = [.. ids];
            await run.Host.StartAsync();
            await TestExtensions.EventuallyAsync(() => Task.FromResult(run._started.Count == 4), 30,
                () => $"4 jobs running; {run._started.Count} started");
            await using var tokens = run.Host.DataSource.CreateCommand("SELECT array_agg(lease_token) FROM jobs_test.jobs WHERE id = ANY($1)");
            tokens.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. run.Ids.Select(static i => i.Value)] });
            run._tokens = (Guid[])(await tokens.ExecuteScalarAsync())!;
            return run;
        }

        public int CancelledAmong(IEnumerable<JobId> ids) => ids.Count(_cancelled.ContainsKey);

        public async Task<DateTime> NowAsync()
        {
            await using var command = Host.DataSource.CreateCommand("SELECT now()");
            return (DateTime)(await command.ExecuteScalarAsync())!;
        }

        /// <summary>The earliest lease end of <paramref name="ids"/>' running claims; null when one of them is no longer the claim that started (rescued, run again).</summary>
        public async Task<DateTime?> EarliestLeaseEndAsync(JobId[] ids)
        {
            await using var command = Host.DataSource.CreateCommand(
                "SELECT CASE WHEN count(*) = cardinality($1) THEN min(lease_expires_at) END FROM jobs_test.jobs " +
                "WHERE id = ANY($1) AND lease_token = ANY($2) AND state = 1");
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. ids.Select(static i => i.Value)] });
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = _tokens });
            return await command.ExecuteScalarAsync() is DateTime t ? t : null;
        }

        public async ValueTask DisposeAsync()
        {
            _release.TrySetResult();
            await Host.DisposeAsync();
            Log.Dispose();
        }
    }
}
