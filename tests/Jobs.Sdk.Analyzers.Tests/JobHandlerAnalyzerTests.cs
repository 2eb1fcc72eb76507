using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobHandlerAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

public class JobHandlerAnalyzerTests
{
    private const string Jobs = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Jobs.Sdk;
        [Job("send-email")] public partial record SendEmail(string To);
        public sealed class Plain { }
        """;

    [Fact]
    public Task JOBS009_handler_for_type_without_job_attribute()
        => V.AnalyzerAsync(
            [Jobs + """

                public sealed class PlainHandler : {|#0:IJobHandler<Plain>|}
                {
                    public Task HandleAsync(Plain job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }
                """, Stubs.Job("SendEmail", "send-email", ns: "")],
            null,
            V.Diagnostic("JOBS009").WithLocation(0)
                .WithMessage("'PlainHandler' implements IJobHandler<Plain>, but 'Plain' is not a job: mark it [Job(\"name\")] (or implement IJob<Plain>)"));

    [Fact]
    public Task JOBS009_not_reported_for_jobs_hand_written_jobs_and_generic_handlers()
        => V.AnalyzerAsync(
            [Jobs + """

                public sealed class EmailHandler : IJobHandler<SendEmail>
                {
                    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }

                // Advanced use: IJob<T> implemented by hand, no [Job].
                public sealed class Manual : IJob<Manual>
                {
                    public static string JobName => "manual";
                    public static void Serialize(System.Text.Json.Utf8JsonWriter writer, Manual job) { }
                    public static Manual Deserialize(ReadOnlySpan<byte> utf8Json) => new();
                }

                public sealed class ManualHandler : Jobs.Sdk.IJobHandler<Manual>
                {
                    public Task HandleAsync(Manual job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }

                public class LoggingHandler<T> : IJobHandler<T>
                {
                    public Task HandleAsync(T job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }
                """, Stubs.Job("SendEmail", "send-email", ns: "")],
            null);

    [Fact]
    public Task JOBS011_calls_that_could_take_the_token()
        => V.AnalyzerAsync(
            [Jobs + """

                public sealed class EmailHandler : IJobHandler<SendEmail>
                {
                    public async Task HandleAsync(SendEmail job, JobContext context, CancellationToken ct)
                    {
                        await {|#0:Task.Delay(100)|};
                        await {|#1:SendAsync(job.To)|};
                        await {|#2:LoadAsync(job.To)|};
                        await LoadAsync(job.To, ct);
                        await Task.Delay(100, ct);
                        await SendAsync(job.To, ct);
                        await SendAsync(job.To, cancellationToken: CancellationToken.None);
                        await Task.Yield();
                        Console.WriteLine(job.To);
                    }

                    private static Task SendAsync(string to, CancellationToken cancellationToken = default) => Task.CompletedTask;
                    private static Task<T> LoadAsync<T>(T value) => Task.FromResult(value);
                    private static Task<T> LoadAsync<T>(T value, CancellationToken cancellationToken) => Task.FromResult(value);
                }
                """, Stubs.Job("SendEmail", "send-email", ns: "")],
            null,
            V.Diagnostic("JOBS011").WithLocation(0)
                .WithMessage("Forward the handler's CancellationToken 'ct' to 'Task.Delay(int)' so job timeouts, cancellation and shutdown stop it"),
            V.Diagnostic("JOBS011").WithLocation(1).WithArguments("ct", "EmailHandler.SendAsync(string, CancellationToken)"),
            V.Diagnostic("JOBS011").WithLocation(2).WithArguments("ct", "EmailHandler.LoadAsync<string>(string)"));

    [Fact]
    public Task JOBS011_only_inside_HandleAsync_of_a_handler()
        => V.AnalyzerAsync(
            [Jobs + """

                public sealed class EmailHandler : IJobHandler<SendEmail>
                {
                    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.Delay(1, cancellationToken);

                    public Task HandleAsync(string other, JobContext context, CancellationToken cancellationToken) => Task.Delay(1);

                    public Task OtherAsync(CancellationToken cancellationToken) => Task.Delay(1);
                }

                public sealed class NotAHandler
                {
                    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.Delay(1);
                }
                """, Stubs.Job("SendEmail", "send-email", ns: "")],
            null);
}
