using Microsoft.CodeAnalysis.Testing;
using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobRegistrationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

public class JobRegistrationAnalyzerTests
{
    private const string Jobs = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Jobs.Sdk;
        using Jobs.Sdk.Scheduling;
        using Microsoft.Extensions.DependencyInjection;

        namespace App;

        [Job("send-email")] public partial record SendEmail(string To);
        [Job("resize")] public partial record Resize(int Width);
        public sealed class EmailHandler : IJobHandler<SendEmail>
        {
            public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public sealed class EmailHandler2 : IJobHandler<SendEmail>
        {
            public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }

        """;

    private static Task VerifyAsync(string program, params DiagnosticResult[] expected)
        => VerifyAsync(program, null, expected);

    private static Task VerifyAsync(string program, string? editorConfig, params DiagnosticResult[] expected)
        => V.AnalyzerAsync(
            [Jobs + program, Stubs.Job("SendEmail", "send-email"), Stubs.Job("Resize", "resize"),
                Stubs.Extensions("App", "SendEmail", "Resize"), Stubs.Scheduler],
            editorConfig,
            expected);

    [Fact]
    public Task JOBS001_PushAsync_of_unregistered_job_in_worker_project()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs.UseInMemory().AddJob<SendEmail, EmailHandler>().AddWorkers());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushAsync(new SendEmail("a@b.c"));
                    await {|#0:queue.PushAsync(new Resize(10))|};
                }
            }
            """,
            V.Diagnostic("JOBS001").WithLocation(0).WithMessage(
                "Job 'resize' (Resize) is pushed here, but this project runs workers (AddWorkers) and registers no handler for it; " +
                "register one (e.g. jobs.AddJob<Resize, THandler>()) or, if another service handles it, list it in 'jobs_sdk.external_jobs' in .editorconfig"));

    [Fact]
    public Task JOBS001_typed_push_PushMany_and_schedule_entries()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs
                        .UseInMemory()
                        .AddWorkers()
                        .AddTestSchedule(s => {|#0:s.Add(new Resize(1), "*/5 * * * *")|}));

                public static async Task PushAsync(JobQueue queue)
                {
                    await {|#1:queue.PushResizeAsync(new Resize(10))|};
                    await {|#2:queue.PushManyAsync(new[] { new Resize(1), new Resize(2) })|};
                    await {|#3:queue.PushAsync(new SendEmail("a@b.c"))|};
                }
            }
            """,
            V.Diagnostic("JOBS001").WithLocation(0).WithArguments("resize", "Resize"),
            V.Diagnostic("JOBS001").WithLocation(1).WithArguments("resize", "Resize"),
            V.Diagnostic("JOBS001").WithLocation(2).WithArguments("resize", "Resize"),
            V.Diagnostic("JOBS001").WithLocation(3).WithArguments("send-email", "SendEmail"));

    [Fact]
    public Task JOBS001_entries_of_the_real_scheduler()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs
                        .UseInMemory()
                        .AddJob<SendEmail, EmailHandler>()
                        .AddWorkers()
                        .AddSchedule(s =>
                        {
                            s.Add(new SendEmail("ops@example.com"), Schedule.Daily(hour: 3));
                            {|#0:s.Add(new Resize(1), Schedule.Hourly())|};
                        }));
            }
            """,
            V.Diagnostic("JOBS001").WithLocation(0).WithArguments("resize", "Resize"));

    [Fact]
    public Task JOBS001_not_reported_in_producer_only_project()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushAsync(new Resize(10));
                    await queue.PushSendEmailAsync(new SendEmail("a@b.c"));
                }
            }
            """);

    [Fact]
    public Task JOBS001_not_reported_when_registered_by_any_registration_form()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs
                        .UseInMemory()
                        .AddSendEmail<EmailHandler>()
                        .AddJob<Resize>((job, context, ct) => Task.CompletedTask)
                        .AddWorkers());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushAsync(new Resize(10));
                    await queue.PushSendEmailAsync(new SendEmail("a@b.c"));
                }
            }
            """);

    [Fact]
    public Task JOBS001_not_reported_when_AddGeneratedJobs_covers_the_job()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs.UseInMemory().AddGeneratedJobs().AddWorkers());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushResizeAsync(new Resize(10));
                    await queue.PushManyAsync(new[] { new SendEmail("a@b.c") });
                }
            }
            """);

    [Fact]
    public Task JOBS001_not_reported_for_jobs_listed_as_external_in_editorconfig()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushAsync(new Resize(10));
                    await queue.PushAsync(new SendEmail("a@b.c"));
                }
            }
            """,
            """
            root = true
            [*.cs]
            jobs_sdk.external_jobs = resize, App.SendEmail
            """);

    [Fact]
    public Task JOBS001_TryPushAsync_and_TryPushManyAsync_of_unregistered_job()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs.UseInMemory().AddJob<SendEmail, EmailHandler>().AddWorkers());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.TryPushAsync(new SendEmail("a@b.c"));
                    await {|#0:queue.TryPushAsync(new Resize(10))|};
                    await {|#1:queue.TryPushManyAsync(new[] { new Resize(1), new Resize(2) })|};
                }
            }
            """,
            V.Diagnostic("JOBS001").WithLocation(0).WithArguments("resize", "Resize"),
            V.Diagnostic("JOBS001").WithLocation(1).WithArguments("resize", "Resize"));

    [Fact]
    public Task JOBS001_push_of_unregistered_job_through_a_generic_push_helper()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs.UseInMemory().AddJob<SendEmail, EmailHandler>().AddWorkers());

                public static Task<JobId> EnqueueAsync<T>(JobQueue queue, T job) where T : IJob<T> => queue.PushAsync(job);

                public static Task<JobId> EnqueueLoggedAsync<TJob>(JobQueue queue, TJob job) where TJob : IJob<TJob> => EnqueueAsync(queue, job);

                public static async Task PushAsync(JobQueue queue)
                {
                    await EnqueueAsync(queue, new SendEmail("a@b.c"));
                    await {|#0:EnqueueAsync(queue, new Resize(10))|};
                    await {|#1:EnqueueLoggedAsync<Resize>(queue, new Resize(20))|};
                }
            }
            """,
            V.Diagnostic("JOBS001").WithLocation(0).WithArguments("resize", "Resize"),
            V.Diagnostic("JOBS001").WithLocation(1).WithArguments("resize", "Resize"));

    [Fact]
    public Task JOBS001_not_reported_for_generic_push_helpers()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());

                public static Task<JobId> PushAnyAsync<T>(JobQueue queue, T job) where T : IJob<T> => queue.PushAsync(job);
            }
            """);

    [Fact]
    public Task JOBS002_same_job_registered_twice_in_one_chain()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs =>
                    {
                        jobs.UseInMemory()
                            .AddJob<SendEmail, EmailHandler>()
                            .{|#0:AddJob<SendEmail, EmailHandler2>()|};
                        jobs.{|#1:AddSendEmail<EmailHandler>()|};
                        jobs.AddJob<Resize>((job, context, ct) => Task.CompletedTask);
                    });
            }
            """,
            V.Diagnostic("JOBS002").WithLocation(0).WithMessage(
                "A handler for job 'SendEmail' is already registered on this JobsBuilder (line 26); AddJobs throws when a job is registered twice"),
            V.Diagnostic("JOBS002").WithLocation(1).WithArguments("SendEmail", "26"));

    [Fact]
    public Task JOBS002_not_reported_for_AddGeneratedJobs_or_separate_builders()
        => VerifyAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services, IServiceCollection other)
                {
                    // AddGeneratedJobs skips jobs that are already registered.
                    services.AddJobs(jobs => jobs.UseInMemory().AddJob<SendEmail, EmailHandler>().AddGeneratedJobs());
                    other.AddJobs(jobs => jobs.UseInMemory().AddJob<SendEmail, EmailHandler2>());
                }
            }
            """);
}
