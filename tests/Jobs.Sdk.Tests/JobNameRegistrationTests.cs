using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Tests;

/// <summary>
/// The name of a hand-written <see cref="IJob{TSelf}"/> (no <c>[Job]</c>, so no JOBS007 from the analyzer) is checked
/// when it is registered: the rules of <c>[Job(name)]</c> (1–255 characters, no whitespace at either end (nor only whitespace), no control characters)
/// and what no store can hold (an unpaired surrogate). Before, the host started and the name failed later or never.
/// </summary>
public class JobNameRegistrationTests
{
    [Fact]
    public void A_hand_written_job_with_an_invalid_name_stops_the_host_build_with_the_reason()
    {
        AssertRejected<Empty>("''", "it is empty");
        AssertRejected<Spaces>("'   '", "it is only whitespace");
        AssertRejected<Nul>(@"'abc\u0000'", "it contains the control character U+0000 at index 3");
        AssertRejected<NewLine>(@"'send\u000Aemail'", "it contains the control character U+000A at index 4");
        AssertRejected<TooLong>("'" + new string('a', 37) + "...'", "it is 256 characters long (at most 255)");
        AssertRejected<LoneSurrogate>(@"'ab\uD800'", "it contains an unpaired surrogate (U+D800) at index 2");
        AssertRejected<Empty>("''", "it is empty", withHandlerType: true);
    }

    [Fact]
    public void A_hand_written_job_whose_name_starts_or_ends_with_whitespace_stops_the_host_build()
    {
        // A worker of 'send-email' would never claim the jobs of 'send-email ': the name is refused as [Job] refuses it (JOBS007).
        AssertRejected<TrailingSpace>("'send-email '", "it starts or ends with whitespace");
        AssertRejected<LeadingTab>(@"'\u0009send-email'", "it starts or ends with whitespace");
    }

    [Fact]
    public async Task A_hand_written_job_with_the_longest_name_and_a_surrogate_pair_runs()
    {
        var ran = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UseInMemory()
            .AddJob<NamedJob<Longest>>((_, context, _) =>
            {
                ran.TrySetResult(context.Name);
                return Task.CompletedTask;
            })
            .AddWorkers());
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await host.Services.GetRequiredService<JobQueue>().PushAsync(new NamedJob<Longest>());
        Assert.Equal(Longest.Value, await ran.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        await host.StopAsync();
    }

    private static void AssertRejected<TName>(string quoted, string reason, bool withHandlerType = false)
        where TName : IName
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddJobs(jobs =>
            {
                jobs.UseInMemory();
                _ = withHandlerType
                    ? jobs.AddJob<NamedJob<TName>, NamedJobHandler<TName>>()
                    : jobs.AddJob<NamedJob<TName>>((_, _, _) => Task.CompletedTask);
                jobs.AddWorkers();
            });
            using var host = builder.Build();
            host.Start();
            host.StopAsync().GetAwaiter().GetResult();
        });
        Assert.Equal(
            $"Job type 'NamedJob`1' has an invalid job name {quoted}: {reason}. IJob<TSelf>.JobName is stored with every queued job and "
            + "finds its handler: it must be 1 to 255 characters, with no whitespace at either end, no control characters or unpaired "
            + "surrogates (as [Job(name)] requires, JOBS007). Return a stable name such as 'send-email'.",
            error.Message);
    }

    internal interface IName
    {
        static abstract string Value { get; }
    }

    internal sealed class Empty : IName { public static string Value => ""; }

    internal sealed class Spaces : IName { public static string Value => "   "; }

    internal sealed class TrailingSpace : IName { public static string Value => "send-email "; }

    internal sealed class LeadingTab : IName { public static string Value => "\tsend-email"; }

    internal sealed class Nul : IName { public static string Value => "abc\0"; }

    internal sealed class NewLine : IName { public static string Value => "send\nemail"; }

    internal sealed class TooLong : IName { public static string Value { get; } = new('a', 256); }

    internal sealed class LoneSurrogate : IName { public static string Value => "ab\uD800"; }

    /// <summary>255 UTF-16 code units with a surrogate pair (an emoji) at the end: the longest valid name.</summary>
    internal sealed class Longest : IName { public static string Value { get; } = new string('n', 253) + "\U0001F680"; }

    /// <summary>A hand-written job (no generator) whose name comes from <typeparamref name="TName"/>.</summary>
    internal sealed record NamedJob<TName> : IJob<NamedJob<TName>>
        where TName : IName
    {
        public static string JobName => TName.Value;

        public static void Serialize(Utf8JsonWriter writer, NamedJob<TName> job)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }

        public static NamedJob<TName> Deserialize(ReadOnlySpan<byte> utf8Json) => new();
    }

    internal sealed class NamedJobHandler<TName> : IJobHandler<NamedJob<TName>>
        where TName : IName
    {
        public Task HandleAsync(NamedJob<TName> job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
