using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Jobs.Sdk.Testing;

/// <summary>One measurement of a Jobs.Sdk instrument.</summary>
internal sealed record MetricPoint(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value?.ToString() : null;
}

/// <summary>Collects the Jobs.Sdk meter's measurements for one queue.</summary>
internal sealed class MetricCollector : IDisposable
{
    /// <summary>How long a wait may take before it fails (a hang guard, not a timing).</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly MeterListener _listener = new();
    private readonly string _queueName;
    private readonly ConcurrentQueue<MetricPoint> _points = new();
    private readonly List<(Func<IReadOnlyList<MetricPoint>, bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private readonly Lock _gate = new();

    public MetricCollector(string queueName)
    {
        _queueName = queueName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public IReadOnlyList<MetricPoint> Points => _points.ToArray();

    public IReadOnlyList<MetricPoint> Of(string instrument) => Points.Where(p => p.Instrument == instrument).ToArray();

    public double Sum(string instrument) => Of(instrument).Sum(p => p.Value);

    public void RecordObservableInstruments() => _listener.RecordObservableInstruments();

    /// <summary>One collection, as an exporter makes it: the points of <paramref name="instrument"/> it recorded.</summary>
    public IReadOnlyList<MetricPoint> Collect(string instrument)
    {
        var before = Of(instrument).Count;
        RecordObservableInstruments();
        return Of(instrument).Skip(before).ToArray();
    }

    public Task WaitAsync(Func<MetricCollector, bool> condition)
    {
        lock (_gate)
        {
            if (condition(this))
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((_ => condition(this), done));
            return done.Task.WaitAsync(WaitLimit);
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            map[tag.Key] = tag.Value;
        }

        if (map.GetValueOrDefault(JobsInstrumentation.DestinationTag) as string != _queueName)
        {
            return;
        }

        lock (_gate)
        {
            _points.Enqueue(new MetricPoint(instrument.Name, value, map));
            foreach (var waiter in _waiters.Where(w => w.Condition(Points)).ToArray())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
