using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Whatever a handler throws, its attempt gets an outcome: the job never stays processing behind a dropped lease.</summary>
[Collection(PostgresCollection.Name)]
public sealed class HandlerExceptionTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_exception_whose_Message_throws_fails_the_attempt_with_a_recorded_error()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => throw new UnreadableException()),
            // A lease far longer than the test: only a recorded outcome can end the attempt, not a rescue.
            worker: o => o.LeaseDuration = TimeSpan.FromMinutes(10));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await q.StartAsync();

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed, what: "the job failed");
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(1, info.Attempts);
        Assert.Contains(typeof(UnreadableException).FullName!, info.LastError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ToString returns null")]
    [InlineData("Message throws, ToString does not")]
    [InlineData("StackTrace throws, ToString does not")]
    [InlineData("scoped service's DisposeAsync throws")]
    [InlineData("payload's constructor throws")]
    [InlineData("100,000 nested inner exceptions")]
    public async Task Whatever_goes_wrong_around_the_handler_the_attempt_fails_with_an_actionable_error(string how)
    {
        var other = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddScoped<ThrowingUnitOfWork>();
            b.AddJob<ValueJob>((_, ctx, _) =>
            {
                other.Add(1);
                return Task.CompletedTask;
            });
            b.AddJob<StrictJob>((_, ctx, _) =>
            {
                switch (how)
                {
                    case "ToString returns null":
                        throw new NullTextException();
                    case "Message throws, ToString does not":
                        throw new MessageOnlyUnreadableException();
                    case "StackTrace throws, ToString does not":
                        throw new StackTraceUnreadableException();
                    case "100,000 nested inner exceptions":
                        Exception nested = new InvalidOperationException("the first failure");
                        for (var i = 0; i < 100_000; i++)
                        {
                            nested = new RetryLoopException("attempt failed", nested);
                        }

                        throw nested;
                    case "scoped service's DisposeAsync throws":
                        _ = ctx.Services.GetRequiredService<ThrowingUnitOfWork>();
                        return Task.CompletedTask;
                    default:
                        return Task.CompletedTask;
                }
            });
        },
            // A lease far longer than the test: only a recorded outcome can end the attempt, not a rescue.
            worker: o => o.LeaseDuration = TimeSpan.FromMinutes(10));
        // An older version of the job, without the validation, pushed the payload.
        var id = await q.Queue.PushAsync(new StrictJobV1(how == "payload's constructor throws" ? -1 : 1), new JobOptions { MaxAttempts = 1 });
        var next = await q.Queue.PushAsync(new ValueJob(2));
        await q.StartAsync();

        await other.WaitForCountAsync(1);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State is not (JobState.Processing or JobState.Pending),
            seconds: 20, what: "the poisoned job has an outcome (it stays processing until its lease expires otherwise)");
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(JobState.Failed, info.State);
        var expected = how switch
        {
            "ToString returns null" => nameof(NullTextException),
            "Message throws, ToString does not" => nameof(MessageOnlyUnreadableException),
            "StackTrace throws, ToString does not" => nameof(StackTraceUnreadableException),
            "scoped service's DisposeAsync throws" => nameof(UnitOfWorkCommitException),
            "100,000 nested inner exceptions" => nameof(RetryLoopException),
            _ => nameof(StrictJob),
        };
        Assert.Contains(expected, info.LastError, StringComparison.Ordinal);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(next)) is null or { State: JobState.Completed }, what: "the other job completed");
    }

    [Theory]
    [InlineData("reschedule")]
    [InlineData("retry")]
    public async Task A_delay_past_year_9999_keeps_the_job_readable_and_waiting(string how)
    {
        var runs = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddJob<ValueJob>((_, _, _) =>
            {
                runs.Add(1);
                throw how == "reschedule" ? new JobRescheduleException(TimeSpan.MaxValue) : new InvalidOperationException("later");
            }, o => o.RetryStrategy = new FarRetry()));
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await q.StartAsync();
        await runs.WaitForCountAsync(1);

        // The run time used to be stored past what DateTimeOffset holds: every read of the job then threw.
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State is JobState.Pending or JobState.Retrying, what: "the job waits");
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.True(info.RunAt > DateTimeOffset.UtcNow.AddYears(7_000), $"run at {info.RunAt:O}");
        Assert.Equal(1, runs.Count);
    }

    /// <summary>Retries once, after the longest delay a <see cref="TimeSpan"/> holds.</summary>
    private sealed class FarRetry : IJobRetryStrategy
    {
        public int MaxAttempts => 2;

        public bool ShouldRetry(int attempt, Exception error) => true;

        public TimeSpan GetDelay(int attempt, Exception error) => TimeSpan.MaxValue;

        public IJobRetryStrategy WithMaxAttempts(int maxAttempts) => this;
    }

    /// <summary>An exception whose <see cref="Exception.ToString"/> returns null.</summary>
    private sealed class NullTextException : Exception
    {
        public override string ToString() => null!;
    }

    /// <summary>An exception whose <see cref="Exception.Message"/> throws while its own <see cref="ToString"/> does not.</summary>
    private sealed class MessageOnlyUnreadableException : Exception
    {
        public override string Message => throw new InvalidOperationException("the message getter threw");

        public override string ToString() => nameof(MessageOnlyUnreadableException);
    }

    /// <summary>An exception whose <see cref="Exception.StackTrace"/> throws while its own <see cref="ToString"/> does not.</summary>
    private sealed class StackTraceUnreadableException : Exception
    {
        public override string StackTrace => throw new InvalidOperationException("the stack trace getter threw");

        public override string ToString() => nameof(StackTraceUnreadableException);
    }

    private sealed class UnitOfWorkCommitException(string message) : Exception(message);

    private sealed class RetryLoopException(string message, Exception inner) : Exception(message, inner);

    /// <summary>A scoped service that commits on dispose, and fails to.</summary>
    private sealed class ThrowingUnitOfWork : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => throw new UnitOfWorkCommitException("the unit of work could not commit");
    }

    /// <summary>A job whose constructor validates its value: a payload it rejects throws from decoding (not a JSON error).</summary>
    private sealed record StrictJob : IJob<StrictJob>
    {
        public StrictJob(int value) => Value = value >= 0 ? value : throw new ValidationFailedException($"{nameof(StrictJob)}.Value must not be negative (was {value}).");

        public int Value { get; }

        public static string JobName => "test.strict";

        public static void Serialize(System.Text.Json.Utf8JsonWriter writer, StrictJob job) => IntMemberJson.Write(writer, "value", job.Value);

        public static StrictJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
    }

    /// <summary>The same job as <see cref="StrictJob"/> before its constructor validated the value.</summary>
    private sealed record StrictJobV1(int Value) : IJob<StrictJobV1>
    {
        public static string JobName => StrictJob.JobName;

        public static void Serialize(System.Text.Json.Utf8JsonWriter writer, StrictJobV1 job) => IntMemberJson.Write(writer, "value", job.Value);

        public static StrictJobV1 Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
    }

    private sealed class ValidationFailedException(string message) : Exception(message);

    /// <summary>An exception whose <see cref="Exception.Message"/> (and so its <see cref="Exception.ToString"/>) throws.</summary>
    private sealed class UnreadableException : Exception
    {
        public override string Message => throw new InvalidOperationException("the message getter threw");
    }
}
