using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Tests;

/// <summary>
/// <c>UseInMemory(o => ...)</c> checks its options when it is called, as <c>UsePostgres</c> does: a poll interval of
/// zero made an idle worker claim in a loop (about 260,000 claims a second on one core), a negative or endless one
/// failed inside the worker's wait, and an empty queue name was accepted.
/// </summary>
public class InMemoryOptionsTests
{
    public static TheoryData<string, TimeSpan> PollIntervals => new()
    {
        { "zero", TimeSpan.Zero },
        { "negative", TimeSpan.FromSeconds(-3) },
        { "endless", TimeSpan.MaxValue },
    };

    [Theory]
    [MemberData(nameof(PollIntervals))]
    public void A_poll_interval_out_of_range_fails_AddJobs_naming_the_option(string what, TimeSpan interval)
    {
        var failure = Record.Exception(() => Build(o => o.PollInterval = interval));

        var outOfRange = Assert.IsType<ArgumentOutOfRangeException>(failure);
        Assert.True(outOfRange.ParamName == nameof(InMemory.InMemoryJobDriverOptions.PollInterval)
            && outOfRange.Message.Contains("InMemoryJobDriverOptions.PollInterval", StringComparison.Ordinal) && Equals(outOfRange.ActualValue, interval),
            $"A {what} poll interval: {failure}");
    }

    [Fact]
    public void An_empty_queue_name_fails_AddJobs_naming_the_option()
    {
        var failure = Record.Exception(() => Build(o => o.QueueName = ""));

        var invalid = Assert.IsAssignableFrom<ArgumentException>(failure);
        Assert.True(invalid.ParamName == "InMemoryJobDriverOptions.QueueName", $"An empty queue name: {failure}");
    }

    private static void Build(Action<InMemory.InMemoryJobDriverOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UseInMemory(configure)
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers());
        using var host = builder.Build();
    }
}
