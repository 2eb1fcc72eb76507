using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Samples.AotWorker;

/// <summary>Counts completed jobs and reports the time from process start to the first completed job.</summary>
public sealed partial class WorkerStats(ILogger<WorkerStats> logger)
{
    private int _completed;

    /// <summary>Jobs completed by this process.</summary>
    public int CompletedCount => Volatile.Read(ref _completed);

    /// <summary>Records a completed job.</summary>
    public void Completed(string job)
    {
        if (Interlocked.Increment(ref _completed) == 1)
        {
            var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
            LogFirst(logger, job, sinceStart.TotalMilliseconds);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "first job completed ({Job}) {Milliseconds:F0} ms after process start")]
    private static partial void LogFirst(ILogger logger, string job, double milliseconds);
}
