using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The state gauge (<see cref="JobsDiagnostics.StateCountInstrument"/>) of queues whose refreshes run out of time while
/// their store answers: the count read waits for a lock another session holds on <c>job_state_counts</c> (a long
/// maintenance statement, a migration, a DBA's transaction), then gets it and succeeds. No read failed, so no 1300, and a
/// queue of a shared read logs nothing itself: their series stopped without a word. The host's clock is a fake one (the
/// samples' age and the refresh interval are read on it, as in <see cref="StateGaugeOutageTests"/>); the refreshes' own
/// timeout, on the real clock, is cut to half a second (<see cref="JobStateCountSampler.RefreshTimeout"/>) so that they run
/// out of time while the read, under its own 10 s, still waits; the lock, the read, the host and the gauge are real.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StateGaugeSlowReadTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Three queues of one store; their refreshes run out of time while the count read waits for a lock, which it then
    /// gets: the read succeeds. The operator must find one warning (event 1302) naming the store, the three queues and what
    /// to check, see their series stop three refresh intervals after their last counts, and find one information (1303)
    /// once they are current again. Nothing was logged: no read failed, and a queue of a shared read logs nothing itself.
    /// </summary>
    [Fact]
    public async Task Queues_whose_refreshes_time_out_behind_a_slow_count_read_that_succeeds_log_one_warning_and_one_when_current_again()
    {
        await using var s = await StalledAsync();

        // The lock is released: the read gets it and succeeds (the store answers, no read failed). The next refresh of the
        // first queue gets its counts from that read.
        await s.Lock.CommitAsync();
        await s.Samplers[0].RefreshAsync().WaitAsync(Guard);
        Assert.Equal(0, await WaitingForLockAsync(s.Queue.DataSource, s.Schema));

        var during = GaugeLogs(s.Logs);
        Assert.True(during.Count == 1 && during[0].EventId.Id == 1302 && during[0].Level == LogLevel.Warning,
            $"three queues whose jobs.state.count refreshes ran out of time behind a count read that waited for a lock and then succeeded logged {during.Count} gauge event(s), not one warning 1302: "
            + string.Join("; ", during.Select(e => $"{e.EventId.Id} {e.Level} {e.Message}")));
        Assert.Equal(3, during[0].State["QueueCount"]);
        Assert.Equal($"'{s.Names[0]}', '{s.Names[1]}', '{s.Names[2]}'", during[0].State["Queues"]);
        Assert.Equal($"PostgreSQL schema '{s.Schema}'", during[0].State["Store"]);
        Assert.Contains("job_state_counts", during[0].Message, StringComparison.Ordinal); // what to check
        Assert.Contains("pg_stat_activity", during[0].Message, StringComparison.Ordinal);

        // What the user saw: three refresh intervals after their last sample, the stale queues' series stop (the first
        // queue's, refreshed since, does not). This collection starts their refreshes, which succeed: current again.
        s.Time.Advance(JobStateCountSampler.MaxAge);
        Assert.Equal([s.Names[0]], s.Gauge.Collect().Keys);
        await Task.WhenAll(s.Samplers.Select(r => r.RefreshAsync())).WaitAsync(Guard);

        var after = GaugeLogs(s.Logs);
        Assert.True(after.Select(e => e.EventId.Id).SequenceEqual([1302, 1303]),
            "the stale counts of three queues and their return logged "
            + string.Join("; ", after.Select(e => $"{e.EventId.Id} {e.Level} {e.Message}")) + ", not one 1302 and one 1303");
        Assert.Equal(LogLevel.Information, after[1].Level);
        Assert.Equal(3, after[1].State["QueueCount"]);
        Assert.Equal($"PostgreSQL schema '{s.Schema}'", after[1].State["Store"]);
        var current = s.Gauge.Collect();
        Assert.Equal(s.Names, current.Keys.Order(StringComparer.Ordinal));
        Assert.All(current.Values, pending => Assert.Equal(1, pending));
    }

    /// <summary>
    /// Passes as written (a guard for the fix above): when the read the queues ran out of time behind then fails (here it
    /// is cancelled on the server while it waits), the read's warning 1300 says why, once, and its 1301 the return; the
    /// queues that ran out of time add no 1302 (nor 1303): one outage, one warning.
    /// </summary>
    [Fact]
    public async Task Queues_whose_refreshes_time_out_behind_a_count_read_that_then_fails_log_only_the_reads_failure()
    {
        await using var s = await StalledAsync();

        await s.Queue.DataSource.ScalarAsync(
            $"SELECT count(pg_cancel_backend(pid)) FROM pg_locks WHERE NOT granted AND relation = '\"{s.Schema}\".job_state_counts'::regclass");
        await s.Samplers[0].RefreshAsync().WaitAsync(Guard); // gets the read's failure: the read has ended
        var during = GaugeLogs(s.Logs);
        Assert.True(during.Select(e => e.EventId.Id).SequenceEqual([1300]),
            "a count read that waited for a lock and failed, with three queues' refreshes out of time behind it, logged "
            + string.Join("; ", during.Select(e => $"{e.EventId.Id} {e.Level} {e.Message}")) + ", not its one warning 1300");

        await s.Lock.CommitAsync();
        s.Time.Advance(JobStateCountSampler.RefreshInterval);
        s.Gauge.Collect(); // starts the refreshes, which succeed
        await Task.WhenAll(s.Samplers.Select(r => r.RefreshAsync())).WaitAsync(Guard);
        Assert.Equal([1300, 1301], GaugeLogs(s.Logs).Select(e => e.EventId.Id));
        Assert.Equal(s.Names, s.Gauge.Collect().Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A host gauging three queues of its own schema, their counts read once; then another session holds a lock the count
    /// read needs, and the next collection's refreshes run out of time (cut to half a second) while the read waits for it.
    /// </summary>
    private async Task<Stalled> StalledAsync()
    {
        var logs = new CapturingLoggerProvider();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var schema = "gauge_slow_" + Guid.NewGuid().ToString("N")[..8];
        var prefix = "gauge_slow_" + Guid.NewGuid().ToString("N")[..8];
        var gauge = new PendingGauge(prefix);
        var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            b.Services.AddLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask);
        }, driver: o => o.Schema = schema, queueName: prefix);
        string[] names = [prefix, prefix + "_b", prefix + "_c"];
        foreach (var name in names)
        {
            await q.Queue.PushAsync(new ValueJob(1), new JobOptions { Queue = name });
        }

        var samplers = names.Select(n => JobsInstrumentation.GetSampler(q.Driver.ForQueue(n))!).ToArray();
        Assert.All(samplers, Assert.NotNull);
        gauge.Collect(); // starts the first refreshes
        await Task.WhenAll(samplers.Select(r => r.RefreshAsync())).WaitAsync(Guard);
        Assert.Equal(names, gauge.Collect().Keys.Order(StringComparer.Ordinal));
        Assert.Empty(GaugeLogs(logs));

        var holder = await q.DataSource.OpenConnectionAsync();
        var locked = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE \"{schema}\".job_state_counts IN ACCESS EXCLUSIVE MODE", holder, locked))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        Array.ForEach(samplers, r => r.RefreshTimeout = TimeSpan.FromMilliseconds(500));
        time.Advance(JobStateCountSampler.RefreshInterval);
        Assert.Equal(names, gauge.Collect().Keys.Order(StringComparer.Ordinal)); // the counts of 5 s ago; starts the refreshes
        await Task.WhenAll(samplers.Select(r => r.RefreshAsync())).WaitAsync(Guard); // they run out of time
        await TestExtensions.EventuallyAsync(async () => await WaitingForLockAsync(q.DataSource, schema) == 1,
            what: "the count read waiting for the lock on job_state_counts after the refreshes ran out of time");
        Assert.Empty(GaugeLogs(logs)); // the read still waits: neither failed nor succeeded
        Array.ForEach(samplers, r => r.RefreshTimeout = JobStateCountSampler.QueryTimeout);
        return new Stalled(q, holder, locked, gauge, logs, time, schema, names, samplers);
    }

    /// <summary>Lock requests on the schema's count table that wait (the count read behind the held lock).</summary>
    private static Task<long> WaitingForLockAsync(NpgsqlDataSource dataSource, string schema)
        => dataSource.ScalarAsync($"SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '\"{schema}\".job_state_counts'::regclass");

    /// <summary>The gauge's log events (1300-1319), oldest first.</summary>
    private static List<CapturingLoggerProvider.LogEntry> GaugeLogs(CapturingLoggerProvider logs)
        => logs.Entries.Where(e => e.EventId.Id is >= 1300 and < 1320).ToList();

    /// <summary>The stalled host: its queue, the session holding the lock (<see cref="Lock"/>), its gauge, logs and clock.</summary>
    private sealed record Stalled(TestQueue Queue, NpgsqlConnection Holder, NpgsqlTransaction Lock, PendingGauge Gauge,
        CapturingLoggerProvider Logs, FakeTimeProvider Time, string Schema, string[] Names, JobStateCountSampler[] Samplers) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Lock.DisposeAsync();
            await Holder.DisposeAsync();
            Gauge.Dispose();
            await Queue.DisposeAsync();
        }
    }

    /// <summary>What an exporter reads: one collection of the gauge, the pending count of each queue of the test.</summary>
    private sealed class PendingGauge : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _pending = new(StringComparer.Ordinal);

        public PendingGauge(string prefix)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == JobsDiagnostics.MeterName && instrument.Name == JobsDiagnostics.StateCountInstrument)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? queue = null, state = null;
                foreach (var tag in tags)
                {
                    queue = tag.Key == JobsInstrumentation.DestinationTag ? tag.Value as string : queue;
                    state = tag.Key == JobsInstrumentation.StateTag ? tag.Value as string : state;
                }

                if (queue is not null && queue.StartsWith(prefix, StringComparison.Ordinal) && state == "pending")
                {
                    _pending[queue] = value;
                }
            });
            _listener.Start();
        }

        public IReadOnlyDictionary<string, long> Collect()
        {
            lock (_pending)
            {
                _pending.Clear();
                _listener.RecordObservableInstruments();
                return new Dictionary<string, long>(_pending, StringComparer.Ordinal);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
