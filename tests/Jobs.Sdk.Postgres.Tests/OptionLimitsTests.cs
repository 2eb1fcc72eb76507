using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Option values no timer, counter or lease can hold (<see cref="TimeSpan.MaxValue"/>, <see cref="int.MaxValue"/>, a
/// negative age) fail the app at start-up with the option, its value and the rule, instead of a host that starts and then
/// never runs a job, throws from <c>StopAsync</c>, or fails with a message about a semaphore; the largest accepted values
/// start, run a job and stop.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OptionLimitsTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    /// <summary>The longest timer .NET accepts (<see cref="JobAttribute.MaxTimeoutSeconds"/>), the largest accepted duration.</summary>
    private static readonly TimeSpan LongestTimer = TimeSpan.FromSeconds(JobAttribute.MaxTimeoutSeconds);

    public static TheoryData<string> WorkerOptions =>
    [
        nameof(JobWorkerOptions.LeaseDuration),
        nameof(JobWorkerOptions.ShutdownTimeout),
        nameof(JobWorkerOptions.RescueInterval),
        nameof(JobWorkerOptions.UnhandledJobCheckInterval),
        nameof(JobWorkerOptions.UnhandledJobWarningAfter),
        nameof(JobWorkerOptions.Concurrency),
        nameof(JobWorkerOptions.Prefetch),
    ];

    [Theory]
    [MemberData(nameof(WorkerOptions))]
    public async Task A_worker_option_out_of_range_fails_the_host_start_naming_the_option_and_its_value(string option)
    {
        using var app = OptionLimitsHost.Build(fixture, worker: o =>
        {
            switch (option)
            {
                case nameof(JobWorkerOptions.LeaseDuration): o.LeaseDuration = TimeSpan.MaxValue; break;
                case nameof(JobWorkerOptions.ShutdownTimeout): o.ShutdownTimeout = TimeSpan.MaxValue; break;
                case nameof(JobWorkerOptions.RescueInterval): o.RescueInterval = TimeSpan.MaxValue; break;
                case nameof(JobWorkerOptions.UnhandledJobCheckInterval): o.UnhandledJobCheckInterval = TimeSpan.MaxValue; break;
                case nameof(JobWorkerOptions.UnhandledJobWarningAfter): o.UnhandledJobWarningAfter = TimeSpan.FromMinutes(-5); break;
                case nameof(JobWorkerOptions.Concurrency): o.Concurrency = int.MaxValue; break;
                case nameof(JobWorkerOptions.Prefetch): o.Prefetch = int.MaxValue; break;
            }
        });

        var failure = await Record.ExceptionAsync(() => app.Host.StartAsync().WaitAsync(Hang));
        await StopQuietlyAsync(app.Host);

        AssertNamesOption(failure, option, "JobWorkerOptions." + option);
    }

    [Fact]
    public async Task A_queue_concurrency_out_of_range_fails_at_AddQueue_naming_the_queue()
    {
        var failure = Record.Exception(() => OptionLimitsHost.Build(fixture, queues: jobs => jobs.AddQueue("bulk", q => q.Concurrency = int.MaxValue)).Dispose());

        AssertNamesOption(failure, nameof(QueueOptions.Concurrency), "queue 'bulk'");
    }

    [Theory]
    [InlineData(nameof(PostgresJobDriverOptions.PollInterval))]
    [InlineData(nameof(PostgresJobDriverOptions.HeldConnectionIdleTimeout))]
    public void A_driver_interval_out_of_range_fails_at_UsePostgres_naming_the_option(string option)
    {
        var failure = Record.Exception(() => OptionLimitsHost.Build(fixture, driver: o =>
        {
            if (option == nameof(PostgresJobDriverOptions.PollInterval))
            {
                o.PollInterval = TimeSpan.MaxValue;
            }
            else
            {
                o.HeldConnectionIdleTimeout = TimeSpan.MaxValue;
            }
        }).Dispose());

        AssertNamesOption(failure, option, "PostgresJobDriverOptions." + option);
    }

    /// <summary>Every duration at the longest accepted value, concurrency and prefetch at their largest: a job runs.</summary>
    [Fact]
    public async Task The_largest_accepted_values_start_run_a_job_and_stop()
    {
        using var app = OptionLimitsHost.Build(fixture,
            driver: o =>
            {
                o.PollInterval = LongestTimer;
                o.HeldConnectionIdleTimeout = LongestTimer;
            },
            worker: o =>
            {
                o.LeaseDuration = LongestTimer;
                o.ShutdownTimeout = LongestTimer;
                o.RescueInterval = LongestTimer;
                o.UnhandledJobCheckInterval = LongestTimer;
                o.UnhandledJobWarningAfter = LongestTimer;
                o.Concurrency = JobWorkerOptions.MaxConcurrency;
                o.Prefetch = JobWorkerOptions.MaxPrefetch;
            });

        await app.Host.StartAsync().WaitAsync(Hang);
        await app.Host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1)).WaitAsync(Hang);
        await app.Ran.WaitAsync(Hang);
        var stop = await Record.ExceptionAsync(() => app.Host.StopAsync().WaitAsync(Hang));

        Assert.True(stop is null, $"host.StopAsync threw: {stop}");
    }

    private static void AssertNamesOption(Exception? failure, string paramName, string named)
    {
        var outOfRange = Assert.IsType<ArgumentOutOfRangeException>(failure);
        Assert.True(outOfRange.ParamName == paramName && outOfRange.Message.Contains(named, StringComparison.Ordinal)
            && outOfRange.ActualValue is not null,
            $"Expected an ArgumentOutOfRangeException for '{paramName}' naming {named} and its value; got: {failure}");
    }

    /// <summary>Stops a host whose start may have failed (.NET's host throws from StopAsync when it resolved no hosted service).</summary>
    private static async Task StopQuietlyAsync(IHost host)
        => await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(Hang));
}
