using System.Diagnostics;
using OpenTelemetry.Metrics;
using MetricPoint = OpenTelemetry.Metrics.MetricPoint;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>Reading what the SDK exported: spans by job, metric points by queue, and README's types, units and tags.</content>
public sealed partial class OpenTelemetrySdkTests
{
    /// <summary>README's advised histogram buckets: 5 ms … 1 h.</summary>
    private static readonly double[] SecondsBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private static Activity[] ProcessSpans(LockedCollection<Activity> spans, JobId id)
        => spans.Snapshot().Where(s => s.Kind == ActivityKind.Consumer && s.Source.Name == JobsDiagnostics.ActivitySourceName
            && s.GetTagItem("messaging.message.id") as string == id.ToString()).ToArray();

    private static Activity PushSpan(LockedCollection<Activity> spans, JobId id)
        => Assert.Single(spans.Snapshot(), s => s.Kind == ActivityKind.Producer && s.GetTagItem("messaging.message.id") as string == id.ToString());

    private static void AssertTags(Activity span, params (string Key, object Value)[] expected)
    {
        foreach (var (key, value) in expected)
        {
            Assert.True(Equals(span.GetTagItem(key), value),
                $"{span.DisplayName} ({span.Kind}): attribute {key} is {span.GetTagItem(key) ?? "missing"} ({span.GetTagItem(key)?.GetType().Name}), README: {value} ({value.GetType().Name})");
        }
    }

    /// <summary>Flushes the meter provider and returns what it exported, by instrument name (the SDK's own snapshots).</summary>
    private static Dictionary<string, MetricSnapshot> Collect(MeterProvider meter, LockedCollection<MetricSnapshot> metrics)
    {
        metrics.Clear();
        Assert.True(meter.ForceFlush(), "the meter provider's flush succeeds");
        return metrics.Snapshot().Where(m => m.MeterName == JobsDiagnostics.MeterName).ToDictionary(m => m.Name);
    }

    private static Dictionary<string, object?>[] PointTags(MetricSnapshot metric, string queueName, out MetricPoint[] points)
    {
        var matching = new List<MetricPoint>();
        var tags = new List<Dictionary<string, object?>>();
        foreach (var point in metric.MetricPoints)
        {
            var map = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var tag in point.Tags)
            {
                map[tag.Key] = tag.Value;
            }

            if (Equals(map.GetValueOrDefault("messaging.destination.name"), queueName))
            {
                matching.Add(point);
                tags.Add(map);
            }
        }

        points = [.. matching];
        return [.. tags];
    }

    private static void AssertCounter(Dictionary<string, MetricSnapshot> exported, string instrument, string unit, string queueName, long total,
        params (string Key, object Value)[] tags)
    {
        Assert.True(exported.TryGetValue(instrument, out var metric), $"{instrument} was not exported (exported: {string.Join(", ", exported.Keys.Order())})");
        Assert.Equal((MetricType.LongSum, unit), (metric.MetricType, metric.Unit));
        var pointTags = PointTags(metric, queueName, out var points);
        var point = Assert.Single(points);
        Assert.Equal(tags.Select(t => t.Key).Order(StringComparer.Ordinal), pointTags[0].Keys.Order(StringComparer.Ordinal));
        Assert.All(tags, t => Assert.Equal(t.Value, pointTags[0][t.Key]));
        Assert.Equal(total, point.GetSumLong());
    }

    /// <summary>A histogram in seconds with README's buckets and tags: one series per outcome given (null: no outcome tag), with its count.</summary>
    private static void AssertHistogram(Dictionary<string, MetricSnapshot> exported, string instrument, string queueName,
        params (string? Outcome, long Count)[] series)
    {
        Assert.True(exported.TryGetValue(instrument, out var metric), $"{instrument} was not exported (exported: {string.Join(", ", exported.Keys.Order())})");
        Assert.Equal((MetricType.Histogram, "s"), (metric.MetricType, metric.Unit));
        var pointTags = PointTags(metric, queueName, out var points);
        Assert.Equal(series.Length, points.Length);
        for (var i = 0; i < points.Length; i++)
        {
            var keys = series[0].Outcome is null
                ? new[] { "jobs.job.name", "jobs.schema", "messaging.destination.name" }
                : ["jobs.job.name", "jobs.job.outcome", "jobs.schema", "messaging.destination.name"];
            Assert.Equal(keys, pointTags[i].Keys.Order(StringComparer.Ordinal));
            var expected = Assert.Single(series, s => Equals(s.Outcome, pointTags[i].GetValueOrDefault("jobs.job.outcome")));
            Assert.Equal(expected.Count, points[i].GetHistogramCount());
            var bounds = new List<double>();
            foreach (var bucket in points[i].GetHistogramBuckets())
            {
                bounds.Add(bucket.ExplicitBound);
            }

            Assert.Equal([.. SecondsBuckets, double.PositiveInfinity], bounds);
        }
    }

    /// <summary>The state gauge's values for the queue by state, or null when it reported none.</summary>
    private static Dictionary<string, long>? StateCounts(Dictionary<string, MetricSnapshot> exported, string queueName)
    {
        if (!exported.TryGetValue("jobs.state.count", out var metric))
        {
            return null;
        }

        Assert.Equal((MetricType.LongGauge, "{job}"), (metric.MetricType, metric.Unit));
        var pointTags = PointTags(metric, queueName, out var points);
        if (points.Length == 0)
        {
            return null;
        }

        Assert.All(pointTags, t => Assert.Equal(["jobs.job.state", "jobs.schema", "messaging.destination.name"], t.Keys.Order(StringComparer.Ordinal)));
        return pointTags.Select((t, i) => (State: (string)t["jobs.job.state"]!, Value: points[i].GetGaugeLastValueLong()))
            .ToDictionary(p => p.State, p => p.Value);
    }
}
