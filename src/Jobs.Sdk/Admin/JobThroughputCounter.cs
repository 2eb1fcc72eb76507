using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// One worker's completed and failed jobs per minute, counted in memory as its outcome batches are written (one lock per
/// batch, nothing per job on the database) and handed to <see cref="JobPresenceService"/>, which upserts the changed minutes
/// with the presence heartbeat (<see cref="IJobAdminStore.ReportThroughputAsync"/>). Minutes older than
/// <see cref="Kept"/> are forgotten (a report that keeps failing that long loses them).
/// </summary>
internal sealed class JobThroughputCounter
{
    /// <summary>How long a minute's totals stay in memory for (re)reporting.</summary>
    public static readonly TimeSpan Kept = TimeSpan.FromMinutes(30);

    private readonly Lock _gate = new();
    private readonly Dictionary<long, Totals> _minutes = [];
    private readonly HashSet<long> _changed = [];

    public JobThroughputCounter(string queueName) => QueueName = queueName;

    /// <summary>The queue the worker serves.</summary>
    public string QueueName { get; }

    /// <summary>Counts the completed and failed outcomes of a written batch in the minute of <paramref name="now"/>.</summary>
    public void Record(IReadOnlyList<JobOutcome> outcomes, DateTimeOffset now)
    {
        int completed = 0, failed = 0;
        for (var i = 0; i < outcomes.Count; i++)
        {
            switch (outcomes[i].Kind)
            {
                case JobOutcomeKind.Completed:
                    completed++;
                    break;
                case JobOutcomeKind.Failed:
                    failed++;
                    break;
            }
        }

        if (completed == 0 && failed == 0)
        {
            return;
        }

        var minute = now.UtcTicks / TimeSpan.TicksPerMinute;
        lock (_gate)
        {
            var totals = _minutes.GetValueOrDefault(minute);
            _minutes[minute] = new Totals(totals.Completed + completed, totals.Failed + failed);
            _changed.Add(minute);
        }
    }

    /// <summary>The totals of the minutes that changed since the last call (empty when none), oldest first.</summary>
    public IReadOnlyList<JobThroughputMinute> TakeChanged(DateTimeOffset now)
    {
        lock (_gate)
        {
            var oldest = (now - Kept).UtcTicks / TimeSpan.TicksPerMinute;
            _minutes.Keys.Where(m => m < oldest).ToList().ForEach(m => _minutes.Remove(m));
            if (_changed.Count == 0)
            {
                return [];
            }

            var list = new List<JobThroughputMinute>(_changed.Count);
            foreach (var minute in _changed.Order())
            {
                if (_minutes.TryGetValue(minute, out var t))
                {
                    list.Add(new JobThroughputMinute(new DateTimeOffset(minute * TimeSpan.TicksPerMinute, TimeSpan.Zero), QueueName, t.Completed, t.Failed));
                }
            }

            _changed.Clear();
            return list;
        }
    }

    /// <summary>Marks minutes whose report failed as changed again, for the next report.</summary>
    public void Unreported(IReadOnlyList<JobThroughputMinute> minutes)
    {
        lock (_gate)
        {
            foreach (var m in minutes)
            {
                _changed.Add(m.Minute.UtcTicks / TimeSpan.TicksPerMinute);
            }
        }
    }

    private readonly record struct Totals(int Completed, int Failed);
}
