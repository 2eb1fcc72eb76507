namespace Jobs.Sdk.Testing;

/// <summary>Collects a scheduler's test-hook events and lets a test await a condition over them (no sleeps).</summary>
internal sealed class SchedulerProbe
{
    private readonly object _gate = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private readonly Dictionary<string, DateTimeOffset> _waitingFor = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _wakeAt = new(StringComparer.Ordinal);
    private readonly List<(string Key, DateTimeOffset Fire, bool Pushed)> _handled = [];
    private readonly List<(string Key, TimeSpan Delay)> _retries = [];
    private readonly List<(string Key, DateTimeOffset Fire, Drivers.ScheduledFireResult Result)> _results = [];

    public void Attach(JobScheduler scheduler)
    {
        scheduler.Waiting += (key, next, wakeAt) => Update(() =>
        {
            _waitingFor[key] = next;
            _wakeAt[key] = wakeAt;
        });
        scheduler.FireHandled += (key, fire, pushed) => Update(() => _handled.Add((key, fire, pushed)));
        scheduler.RetryWaiting += (key, delay) => Update(() => _retries.Add((key, delay)));
        scheduler.FireResult += (key, fire, result) => Update(() => _results.Add((key, fire, result)));
    }

    /// <summary>A snapshot of the fires the scheduler handled (pushed, or found already pushed by another node).</summary>
    public IReadOnlyList<(string Key, DateTimeOffset Fire, bool Pushed)> Handled { get { lock (_gate) { return _handled.ToArray(); } } }

    /// <summary>A snapshot of what the store said about each fire this scheduler handled.</summary>
    public IReadOnlyList<(string Key, DateTimeOffset Fire, Drivers.ScheduledFireResult Result)> Results { get { lock (_gate) { return _results.ToArray(); } } }

    /// <summary>A snapshot of the store errors the scheduler retried, with the delay it chose.</summary>
    public IReadOnlyList<(string Key, TimeSpan Delay)> Retries { get { lock (_gate) { return _retries.ToArray(); } } }

    /// <summary>How many store errors the scheduler retried.</summary>
    public int RetryCount { get { lock (_gate) { return _retries.Count; } } }

    /// <summary>How many fires of <paramref name="key"/> this scheduler pushed.</summary>
    public int PushedCount(string key) { lock (_gate) { return _handled.Count(h => h.Key == key && h.Pushed); } }

    /// <summary>Completes once <paramref name="count"/> retry waits have been registered.</summary>
    public Task RetriesAsync(int count) => WhenAsync(() => _retries.Count >= count, $"{count} retries");

    /// <summary>Completes once the entry <paramref name="key"/> is waiting for <paramref name="next"/>.</summary>
    public Task WaitingForAsync(string key, DateTimeOffset next)
        => WhenAsync(() => _waitingFor.TryGetValue(key, out var n) && n == next, $"entry '{key}' waiting for {next:O}");

    /// <summary>
    /// Completes once every entry in <paramref name="keys"/> is parked on a timer that wakes after <paramref name="now"/>:
    /// the scheduler has handled everything due at <paramref name="now"/> and the fake clock may be advanced again.
    /// </summary>
    public Task SettledAsync(IEnumerable<string> keys, DateTimeOffset now)
    {
        var list = keys.ToArray();
        return WhenAsync(() => list.All(k => _wakeAt.TryGetValue(k, out var w) && w > now), $"entries parked after {now:O}");
    }

    /// <summary>Completes once <paramref name="condition"/> (evaluated under the probe's lock) holds; fails after 30 s.</summary>
    public Task WhenAsync(Func<bool> condition, string what)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            if (condition())
            {
                return Task.CompletedTask;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, done));
        }

        return done.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(
            t => t.IsFaulted ? throw new TimeoutException($"Timed out waiting for {what}; last waiting: {Describe()}") : t,
            TaskScheduler.Default).Unwrap();
    }

    private string Describe()
    {
        lock (_gate)
        {
            return string.Join(", ", _waitingFor.Select(kv => $"{kv.Key} -> {kv.Value:O} (wakes {_wakeAt[kv.Key]:O})"));
        }
    }

    private void Update(Action change)
    {
        List<TaskCompletionSource>? ready = null;
        lock (_gate)
        {
            change();
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition())
                {
                    (ready ??= []).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        ready?.ForEach(t => t.TrySetResult());
    }
}
