using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

/// <content>The admin store's throughput table: totals per (minute, queue, worker), kept for <see cref="ThroughputKept"/>.</content>
public sealed partial class InMemoryJobDriver
{
    /// <summary>How long reported minutes are kept.</summary>
    private static readonly TimeSpan ThroughputKept = TimeSpan.FromHours(3);

    private readonly SortedDictionary<(DateTimeOffset Minute, string Queue, string Worker), (int Completed, int Failed)> _throughput = [];

    /// <inheritdoc />
    Task IJobAdminStore.ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        cancellationToken.ThrowIfCancellationRequested();
        var oldest = _time.GetUtcNow() - ThroughputKept;
        lock (_gate)
        {
            foreach (var m in report.Minutes)
            {
                _throughput[(m.Minute, m.QueueName, report.WorkerId)] = (m.Completed, m.Failed);
            }

            foreach (var key in _throughput.Keys.TakeWhile(k => k.Minute < oldest).ToArray())
            {
                _throughput.Remove(key);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    Task<IReadOnlyList<JobThroughputMinute>> IJobAdminStore.GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<JobThroughputMinute> list = _throughput
                .Where(e => e.Key.Minute >= from && e.Key.Minute < to)
                .GroupBy(e => (e.Key.Minute, e.Key.Queue))
                .Select(g => new JobThroughputMinute(g.Key.Minute, g.Key.Queue, g.Sum(e => e.Value.Completed), g.Sum(e => e.Value.Failed)))
                .OrderBy(m => m.Minute).ThenBy(m => m.QueueName, StringComparer.Ordinal)
                .ToArray();
            return Task.FromResult(list);
        }
    }
}
