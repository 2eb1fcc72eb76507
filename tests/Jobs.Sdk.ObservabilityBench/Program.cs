// Drains N in-memory no-op jobs through a real JobWorker and prints push and drain times, in three modes:
//   none      no ActivityListener / MeterListener attached (the default production case without OpenTelemetry)
//   listener  an ActivityListener sampling every span and a MeterListener on every Jobs.Sdk instrument (no-op sinks)
//   off       instrumentation switched off through the AppContext switch "Jobs.Sdk.Instrumentation.Disabled"
// Usage: dotnet run -c Release --project tests/Jobs.Sdk.ObservabilityBench -- [jobs=200000] [processes per mode=3]
// Each measurement runs in its own process (the switch is read once per process); modes are interleaved.
// "hooks" is the cost of the instrumentation calls alone per job (push hooks + attempt hooks), best of 5 x 1M calls.
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Jobs.Sdk;
using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;

if (args.Length >= 2 && args[0] == "--child")
{
    return await Child.RunAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
}

var jobs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
string[] modes = ["none", "listener", "off"];
var results = modes.ToDictionary(m => m, _ => new List<(double Push, double Drain, double PushCpu, double DrainCpu, double Hooks)>());
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
        var values = parts.Skip(1).Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        results[mode].Add((values[0], values[1], values[2], values[3], values[4]));
        Console.WriteLine($"run {r + 1} {mode,-8} push {values[0]:F3} s (cpu {values[2]:F3})  drain {values[1]:F3} s (cpu {values[3]:F3})  {jobs / values[1]:N0} jobs/s  hooks {values[4]:F1} ns/job");
    }
}

Console.WriteLine();
Console.WriteLine($"{jobs:N0} no-op jobs, median of {repeats} processes per mode ({Environment.ProcessorCount} cores, {RuntimeVersion()}):");
Console.WriteLine("mode      push s  push cpu s   drain s  drain cpu s   drain jobs/s   cpu us/job (drain)   hooks ns/job");
foreach (var mode in modes)
{
    var push = Median(results[mode].Select(x => x.Push));
    var drain = Median(results[mode].Select(x => x.Drain));
    var pushCpu = Median(results[mode].Select(x => x.PushCpu));
    var drainCpu = Median(results[mode].Select(x => x.DrainCpu));
    var hooks = Median(results[mode].Select(x => x.Hooks));
    Console.WriteLine($"{mode,-8}  {push,6:F3}  {pushCpu,10:F3}   {drain,7:F3}  {drainCpu,11:F3}   {jobs / drain,12:N0}   {drainCpu * 1e6 / jobs,18:F2}   {hooks,12:F1}");
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
        var (push, drain, pushCpu, drainCpu) = await RoundAsync(jobs);
        var hooks = HookCost();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode} {push:F3} {drain:F3} {pushCpu:F3} {drainCpu:F3} {hooks:F1}"));
        activities?.Dispose();
        meters?.Dispose();
        return 0;
    }

    /// <summary>
    /// Nanoseconds per job spent in the instrumentation hooks alone (the push hooks for a one-job push plus the
    /// attempt hooks), best of 5 runs of 1M calls: isolates the instrumentation from the queue's own work.
    /// </summary>
    private static double HookCost()
    {
        const int Calls = 1_000_000;
        var record = new Jobs.Sdk.Drivers.JobPushRecord { Id = JobId.New(), Name = NoopJob.JobName, Payload = "{}"u8.ToArray() };
        IReadOnlyList<Jobs.Sdk.Drivers.JobPushRecord> records = [record];
        var claimed = new Jobs.Sdk.Drivers.ClaimedJob
        {
            Id = record.Id, Name = record.Name, Payload = record.Payload, Attempt = 1, MaxAttempts = 1,
            QueuedAt = DateTimeOffset.UtcNow, RunAt = DateTimeOffset.UtcNow,
        };
        var outcome = new Jobs.Sdk.Drivers.JobOutcome(record.Id, JobOutcomeKind.Completed, 1);
        var best = double.MaxValue;
        for (var run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Calls; i++)
            {
                using (var push = JobsInstrumentation.StartPush("default", records))
                {
                    push.Stored();
                }

                JobsInstrumentation.StartProcess("default", claimed, TimeProvider.System)?.Stop(outcome);
            }

            best = Math.Min(best, clock.Elapsed.TotalNanoseconds / Calls);
        }

        return best;
    }

    private static double Cpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    private static async Task<(double Push, double Drain, double PushCpu, double DrainCpu)> RoundAsync(int jobs)
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
            var cpu = Cpu();
            var clock = Stopwatch.StartNew();
            for (var pushed = 0; pushed < jobs; pushed += 10_000)
            {
                var count = Math.Min(10_000, jobs - pushed);
                await queue.PushManyAsync(Enumerable.Range(pushed, count).Select(i => new NoopJob(i)));
            }

            var push = clock.Elapsed.TotalSeconds;
            var pushCpu = Cpu() - cpu;
            cpu = Cpu();
            clock.Restart();
            await worker.StartAsync(CancellationToken.None);
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            await worker.StopAsync(CancellationToken.None);
            return (push, clock.Elapsed.TotalSeconds, pushCpu, Cpu() - cpu);
        }
    }
}

/// <summary>A hand-written no-op job.</summary>
internal sealed record NoopJob(int Value) : IJob<NoopJob>
{
    public static string JobName => "bench.noop";

    public static void Serialize(Utf8JsonWriter writer, NoopJob job) => IntMemberJson.Write(writer, "v", job.Value);

    public static NoopJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "v", nameof(Value)));
}
