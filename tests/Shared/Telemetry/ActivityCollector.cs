using System.Collections.Concurrent;
using System.Diagnostics;

namespace Jobs.Sdk.Testing;

/// <summary>Collects stopped activities of the Jobs.Sdk source (and the test's own source) for one queue.</summary>
internal sealed class ActivityCollector : IDisposable
{
    /// <summary>How long a wait may take before it fails (a hang guard, not a timing).</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    public const string TestSourceName = "Jobs.Sdk.Tests.App";

    private readonly ActivityListener _listener;
    private readonly string _queueName;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly List<(Func<IReadOnlyList<Activity>, bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private readonly Lock _gate = new();

    public ActivityCollector(string queueName, ActivitySamplingResult sampling = ActivitySamplingResult.AllDataAndRecorded)
    {
        _queueName = queueName;
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is JobsDiagnostics.ActivitySourceName or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => sampling,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The Jobs.Sdk spans of this collector's queue, in stop order.</summary>
    public IReadOnlyList<Activity> Spans => _stopped.ToArray();

    public Task WaitAsync(Func<IReadOnlyList<Activity>, bool> condition)
    {
        lock (_gate)
        {
            if (condition(Spans))
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, done));
            return done.Task.WaitAsync(WaitLimit);
        }
    }

    private void OnStopped(Activity activity)
    {
        if (activity.Source.Name != JobsDiagnostics.ActivitySourceName
            || activity.GetTagItem(JobsInstrumentation.DestinationTag) as string != _queueName)
        {
            return;
        }

        lock (_gate)
        {
            _stopped.Enqueue(activity);
            var spans = Spans;
            foreach (var waiter in _waiters.Where(w => w.Condition(spans)).ToArray())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
