using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard.Live;

/// <summary>
/// Reads what the live hub broadcasts: totals, the overview's queues (<see cref="OverviewQueues"/>) with their counts, worker count, whether the server is read-only, and (every
/// <see cref="JobsDashboardOptions.ThroughputInterval"/>) the jobs finished per minute over the last hour.
/// </summary>
internal sealed class DashboardSnapshotSource
{
    private readonly JobAdmin _admin;
    private readonly TimeProvider _time;
    private readonly TimeSpan _throughputInterval;
    private readonly int _overviewQueues;
    private ThroughputDto? _throughput;

    public DashboardSnapshotSource(JobAdmin admin, IOptions<JobsDashboardOptions> options, TimeProvider time)
    {
        _admin = admin;
        _time = time;
        _throughputInterval = options.Value.ThroughputInterval;
        _overviewQueues = options.Value.PageSize;
    }

    public async Task<string> ReadAsync(long sequence, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var queues = await ReadQueuesAsync(cancellationToken);
        var workers = await _admin.GetWorkersAsync(cancellationToken);
        if (_throughput is null || now - _throughput.To >= _throughputInterval)
        {
            _throughput = await ReadThroughputAsync(now, cancellationToken);
        }

        // Reads answer on a read-only server too (a standby, the old primary after a failover behind one host name): only
        // this tells the page that its figures may be stale and its actions would be refused. Once per poll, not per request.
        var readOnly = await _admin.GetReadOnlyReasonAsync(cancellationToken);
        var snapshot = new SnapshotDto(
            sequence, now, queues.Totals, queues.Busiest, workers.Count, workers.Sum(w => w.RunningCount), _throughput, readOnly,
            queues.Count, queues.Paused, queues.OldestWaitingSeconds);
        return JsonSerializer.Serialize(snapshot, DashboardJsonContext.Default.SnapshotDto);
    }

    /// <summary>
    /// The overview's figures over every queue and its busiest queues: summed up by the store where it can
    /// (<see cref="JobAdmin.GetQueueOverviewAsync"/>: a few rows, however many queues), else from every queue read whole.
    /// </summary>
    private async Task<OverviewFigures> ReadQueuesAsync(CancellationToken cancellationToken)
    {
        if (await _admin.GetQueueOverviewAsync(_overviewQueues, cancellationToken) is { } overview)
        {
            return new OverviewFigures(
                CountsDto.From(overview.Totals), OverviewQueues.Busiest([.. overview.Busiest.Select(DashboardMapping.ToDto)], _overviewQueues),
                overview.QueueCount, overview.PausedCount, overview.OldestWaitingAge?.TotalSeconds);
        }

        var queues = (await _admin.GetQueuesAsync(cancellationToken)).Select(DashboardMapping.ToDto).ToArray();
        return new OverviewFigures(
            CountsDto.Sum(queues.Select(q => q.Counts)), OverviewQueues.Busiest(queues, _overviewQueues), queues.Length,
            queues.Count(q => q.IsPaused), queues.Max(q => q.OldestWaitingSeconds));
    }

    private sealed record OverviewFigures(CountsDto Totals, IReadOnlyList<QueueDto> Busiest, int Count, int Paused, double? OldestWaitingSeconds);

    public static string ErrorJson(long sequence, Exception exception)
        => JsonSerializer.Serialize(new StoreErrorDto(sequence, DateTimeOffset.UtcNow, $"{exception.GetType().Name}: {exception.Message}"),
            DashboardJsonContext.Default.StoreErrorDto);

    /// <summary>
    /// Completed and failed jobs per minute over the hour before <paramref name="now"/>, all queues summed: the worker
    /// processes count them as they record outcomes and report them with their heartbeat
    /// (<see cref="JobAdmin.GetThroughputAsync"/>), so the chart holds whatever retention deletes. One small read.
    /// </summary>
    private async Task<ThroughputDto> ReadThroughputAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var to = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(1);
        var from = to.AddMinutes(-60);
        var completed = new int[60];
        var failed = new int[60];
        foreach (var m in await _admin.GetThroughputAsync(from, to, cancellationToken))
        {
            var minute = (int)((m.Minute - from).Ticks / TimeSpan.TicksPerMinute);
            if (minute is >= 0 and < 60)
            {
                completed[minute] += m.Completed;
                failed[minute] += m.Failed;
            }
        }

        var minutes = new ThroughputMinuteDto[60];
        for (var i = 0; i < 60; i++)
        {
            minutes[i] = new ThroughputMinuteDto(from.AddMinutes(i), completed[i], failed[i]);
        }

        return new ThroughputDto(from, now, minutes);
    }
}
