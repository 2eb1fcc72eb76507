// Drains N in-memory no-op jobs through a real JobWorker and prints push and drain times, in three modes:
//   none      no ActivityListener / MeterListener attached (the default production case without OpenTelemetry)
//   listener  an ActivityListener sampling every span and a MeterListener on every Jobs.Sdk instrument (no-op sinks)
//   off       instrumentation switched off through the AppContext switch "Jobs.Sdk.Instrumentation.Disabled"
// Usage: dotnet run -c Release --project tests/Jobs.Sdk.ObservabilityBench -- [jobs=200000] [processes per mode=3]
// Each measurement runs in its own process (the switch is read once per process); modes are interleaved.
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;

if (args.Length >= 2 && args[0] == "--child")
{
    return await Child.RunAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
}

var jobs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
string[] modes = ["none", "listener", "off"];
var results = modes.ToDictionary(m => m, _ => new List<(double Push, double Drain)>());
for (var r = 0; r < repeats; r++)
{
    foreach (var mode in modes)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(Child).Assembly.Location);
        }

        foreach (var a in new[] { "--child", mode, jobs.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        using var child = Process.Start(start)!;
        var line = (await child.StandardOutput.ReadToEndAsync()).Trim().Split('\n')[^1];
        await child.WaitForExitAsync();
        var parts = line.Split(' ');
        results[mode].Add((double.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture)));
        Console.WriteLine($"run {r + 1} {mode,-8} push {parts[1]} s  drain {parts[2]} s  ({jobs / double.Parse(parts[2], CultureInfo.InvariantCulture):N0} jobs/s)");
    }
}

Console.WriteLine();
Console.WriteLine($"{jobs:N0} no-op jobs, median of {repeats} processes per mode ({Environment.ProcessorCount} cores, {RuntimeVersion()}):");
Console.WriteLine("mode      push s   drain s   drain jobs/s");
foreach (var mode in modes)
{
    var push = Median(results[mode].Select(x => x.Push));
    var drain = Median(results[mode].Select(x => x.Drain));
    Console.WriteLine($"{mode,-8}  {push,6:F3}   {drain,7:F3}   {jobs / drain,12:N0}");
}

return 0;

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static string RuntimeVersion() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

internal static class Child
{
    public static async Task<int> RunAsync(string mode, int jobs)
    {
        ActivityListener? activities = null;
        MeterListener? meters = null;
        switch (mode)
        {
            case "off":
                AppContext.SetSwitch("Jobs.Sdk.Instrumentation.Disabled", true);
                break;
            case "listener":
                activities = new ActivityListener
                {
                    ShouldListenTo = s => s.Name == JobsDiagnostics.ActivitySourceName,
                    Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                    ActivityStopped = _ => { },
                };
                ActivitySource.AddActivityListener(activities);
                meters = new MeterListener
                {
                    InstrumentPublished = (instrument, listener) =>
                    {
                        if (instrument.Meter.Name == JobsDiagnostics.MeterName)
                        {
                            listener.EnableMeasurementEvents(instrument);
                        }
                    },
                };
                meters.SetMeasurementEventCallback<long>((_, _, _, _) => { });
                meters.SetMeasurementEventCallback<double>((_, _, _, _) => { });
                meters.Start();
                break;
            case "none":
                break;
            default:
                throw new ArgumentException($"Unknown mode '{mode}': use none, listener or off.", nameof(mode));
        }

        // Warm-up round (JIT, tiering), then the measured round.
        await RoundAsync(Math.Max(jobs / 10, 1000));
        var (push, drain) = await RoundAsync(jobs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode} {push:F3} {drain:F3}"));
        activities?.Dispose();
        meters?.Dispose();
        return 0;
    }

    private static async Task<(double Push, double Drain)> RoundAsync(int jobs)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ran = 0;
        var services = new ServiceCollection()
            .AddJobs(j => j
                .UseInMemory()
                .AddJob<NoopJob>((job, ctx, ct) =>
                {
                    if (Interlocked.Increment(ref ran) == jobs)
                    {
                        done.TrySetResult();
                    }

                    return Task.CompletedTask;
                })
                .AddWorkers(o => o.Concurrency = 16))
            .BuildServiceProvider();
        await using (services)
        {
            var queue = services.GetRequiredService<JobQueue>();
            var worker = services.GetRequiredService<JobWorker>();
            var clock = Stopwatch.StartNew();
            for (var pushed = 0; pushed < jobs; pushed += 10_000)
            {
                var count = Math.Min(10_000, jobs - pushed);
                await queue.PushManyAsync(Enumerable.Range(pushed, count).Select(i => new NoopJob(i)));
            }

            var push = clock.Elapsed.TotalSeconds;
            clock.Restart();
            await worker.StartAsync(CancellationToken.None);
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            await worker.StopAsync(CancellationToken.None);
            return (push, clock.Elapsed.TotalSeconds);
        }
    }
}

/// <summary>A hand-written no-op job.</summary>
internal sealed record NoopJob(int Value) : IJob<NoopJob>
{
    public static string JobName => "bench.noop";

    public static void Serialize(Utf8JsonWriter writer, NoopJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("v", job.Value);
        writer.WriteEndObject();
    }

    public static NoopJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.Number)
            {
                return new NoopJob(reader.GetInt32());
            }
        }

        throw new JobDecodeException(JobName, "Value", "$.v", "missing");
    }
}
