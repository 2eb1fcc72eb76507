using System.Globalization;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>A hand-written job for scheduler tests.</summary>
public sealed record Ping(string Tag = "") : IJob<Ping>
{
    public static string JobName => "test.ping";

    public static void Serialize(Utf8JsonWriter writer, Ping job)
    {
        writer.WriteStartObject();
        writer.WriteString("tag", job.Tag);
        writer.WriteEndObject();
    }

    public static Ping Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new Ping(doc.RootElement.TryGetProperty("tag", out var tag) ? tag.GetString() ?? "" : "");
    }
}

/// <summary>A second job type, for key derivation tests.</summary>
public sealed record Report(string Name) : IJob<Report>
{
    public static string JobName => "test.report";

    public static void Serialize(Utf8JsonWriter writer, Report job)
    {
        writer.WriteStartObject();
        writer.WriteString("name", job.Name);
        writer.WriteEndObject();
    }

    public static Report Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new Report(doc.RootElement.GetProperty("name").GetString()!);
    }
}

internal static class Zones
{
    public static TimeZoneInfo London { get; } = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
    public static TimeZoneInfo NewYork { get; } = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
}

internal static class Times
{
    public static DateTimeOffset Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) => new(y, mo, d, h, mi, s, TimeSpan.Zero);

    /// <summary>The next <paramref name="count"/> fire times after <paramref name="from"/>, as UTC "O" strings.</summary>
    public static List<DateTimeOffset> Next(Schedule schedule, DateTimeOffset from, int count)
    {
        var result = new List<DateTimeOffset>();
        var cursor = from;
        for (var i = 0; i < count && schedule.GetNextOccurrence(cursor) is { } next; i++)
        {
            result.Add(next.ToUniversalTime());
            cursor = next;
        }

        return result;
    }

    public static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}

/// <summary>One scheduler "node" over a (possibly shared) driver.</summary>
internal sealed class SchedulerNode : IAsyncDisposable
{
    public SchedulerNode(IJobDriver driver, FakeTimeProvider time, JobSchedule schedule)
    {
        var runtime = new JobsRuntime(driver, new JobRegistry([]), new JobQueueOptions(), time, []);
        Queue = new JobQueue(runtime);
        Scheduler = new JobScheduler(runtime, schedule);
        Probe.Attach(Scheduler);
        Keys = schedule.Entries.Select(e => e.Key).ToArray();
        Time = time;
    }

    public JobQueue Queue { get; }
    public JobScheduler Scheduler { get; }
    public SchedulerProbe Probe { get; } = new();

    public Task StartAsync() => Scheduler.StartAsync(CancellationToken.None);

    /// <summary>Waits until every entry is parked after the fake clock's current time.</summary>
    public Task SettledAsync() => Probe.SettledAsync(Keys, Time.GetUtcNow());

    /// <summary>Advances the fake clock and waits until this node has handled everything due.</summary>
    public Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        return SettledAsync();
    }

    public IReadOnlyList<string> Keys { get; }

    public FakeTimeProvider Time { get; }

    public Task StopAsync() => Scheduler.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

    public ValueTask DisposeAsync() => Scheduler.DisposeAsync();
}

internal static class DriverExtensions
{
    /// <summary>Claims every due job (as a fake worker) so tests can inspect what was pushed.</summary>
    public static async Task<IReadOnlyList<ClaimedJob>> ClaimAllAsync(this InMemoryJobDriver driver)
        => await driver.ClaimAsync(new JobClaimRequest("test", 100_000, TimeSpan.FromHours(1)), CancellationToken.None);

    public static DateTimeOffset ScheduledAt(this ClaimedJob job) => Times.Parse(job.Headers![JobHeaders.ScheduledAt]);
}

/// <summary>An <see cref="IJobDriver"/> that forwards to an inner in-memory driver and stores no schedules.</summary>
internal class DelegatingDriver(InMemoryJobDriver inner) : IJobDriver
{
    public InMemoryJobDriver Inner { get; } = inner;
    public string QueueName => Inner.QueueName;
    public event Action<JobLease>? RunningJobCancelled { add => Inner.RunningJobCancelled += value; remove => Inner.RunningJobCancelled -= value; }
    public virtual Task WaitUntilReadyAsync(CancellationToken cancellationToken) => Inner.WaitUntilReadyAsync(cancellationToken);
    public Task PushAsync(IReadOnlyList<JobPushRecord> jobs, System.Data.Common.DbTransaction? transaction, CancellationToken cancellationToken) => Inner.PushAsync(jobs, transaction, cancellationToken);
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken) => Inner.ClaimAsync(request, cancellationToken);
    public Task WaitForWorkAsync(CancellationToken cancellationToken) => Inner.WaitForWorkAsync(cancellationToken);
    public Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken) => Inner.CompleteAsync(workerId, outcomes, cancellationToken);
    public Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobLease> running, TimeSpan leaseDuration, CancellationToken cancellationToken) => Inner.RenewLeasesAsync(workerId, running, leaseDuration, cancellationToken);
    public Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken) => Inner.RescueExpiredLeasesAsync(cancellationToken);
    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken) => Inner.CancelAsync(id, cancellationToken);
    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken) => Inner.PauseAsync(id, cancellationToken);
    public Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken) => Inner.ResumeAsync(id, cancellationToken);
    public Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken) => Inner.GetJobAsync(id, cancellationToken);
    public Task<IReadOnlyList<JobNameCounts>> GetCountsByNameAsync(CancellationToken cancellationToken) => Inner.GetCountsByNameAsync(cancellationToken);

    public Task<IReadOnlyList<WaitingJobName>> GetWaitingNamesAsync(TimeSpan dueFor, CancellationToken cancellationToken)
        => Inner.GetWaitingNamesAsync(dueFor, cancellationToken);

    public Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken) => Inner.GetCountsAsync(cancellationToken);
    public virtual Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken) => Inner.CleanupAsync(options, cancellationToken);
    public ValueTask DisposeAsync() => Inner.DisposeAsync();
}

/// <summary>A schedule store whose first calls throw, to test that the scheduler survives store errors.</summary>
internal sealed class FlakyStoreDriver(InMemoryJobDriver inner, int readFailures, int pushFailures) : DelegatingDriver(inner), IJobScheduleStore
{
    private int _reads = readFailures;
    private int _pushes = pushFailures;

    public int Calls { get; private set; }

    /// <summary>Completes when the scheduler starts waiting for readiness.</summary>
    public TaskCompletionSource ReadyRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, readiness waits for it.</summary>
    public Task? ReadyGate { get; set; }

    public override async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        ReadyRequested.TrySetResult();
        if (ReadyGate is { } gate)
        {
            await gate.WaitAsync(cancellationToken);
        }
    }

    /// <summary>When set, <see cref="CleanupAsync"/> throws it.</summary>
    public Exception? CleanupError { get; set; }

    public override Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken)
        => CleanupError is { } error ? Task.FromException(error) : base.CleanupAsync(options, cancellationToken);

    public Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
    {
        Fail(ref _reads);
        return Inner.GetLastFireTimeAsync(entryKey, cancellationToken);
    }

    public Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        Fail(ref _pushes);
        return Inner.TryPushScheduledAsync(entryKey, fireTime, job, cancellationToken);
    }

    private void Fail(ref int remaining)
    {
        Calls++;
        if (remaining-- > 0)
        {
            throw new InvalidOperationException("Simulated store outage.");
        }
    }
}

internal static class Cluster
{
    /// <summary>Advances the fake clock in steps no longer than <paramref name="step"/>, letting every node settle after each.</summary>
    public static async Task AdvanceAsync(FakeTimeProvider time, TimeSpan by, TimeSpan step, params SchedulerNode[] nodes)
    {
        while (by > TimeSpan.Zero)
        {
            var s = by < step ? by : step;
            time.Advance(s);
            by -= s;
            foreach (var node in nodes)
            {
                await node.SettledAsync();
            }
        }
    }
}

/// <summary>A job whose serializer always throws.</summary>
public sealed record Unserializable : IJob<Unserializable>
{
    public static string JobName => "test.unserializable";

    public static void Serialize(Utf8JsonWriter writer, Unserializable job) => throw new InvalidOperationException("no payload for you");

    public static Unserializable Deserialize(ReadOnlySpan<byte> utf8Json) => new();
}
