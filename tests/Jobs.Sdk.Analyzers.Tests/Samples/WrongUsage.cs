// Deliberately wrong Jobs.Sdk usage: every analyzer diagnostic fires once here (see WrongUsageSampleTests).
// Each line that should be flagged ends with a comment naming the diagnostic.
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace WrongUsage;

[Job("send-email")] // JOBS003: same name as SendEmailV2
public partial record SendEmail(string To, string Subject);

[Job("send-email")] // JOBS003: same name as SendEmail
public partial record SendEmailV2(string To);

[Job("resize")]
public partial record ResizeImage(string Path, int Width);

[Job("render")]
public record RenderReport(string Name); // JOBS004: not partial

[Job("generic")]
public partial class Envelope<T> { } // JOBS005: generic

[Job("base")]
public abstract partial class BaseJob { } // JOBS006: abstract

[Job("")] // JOBS007: empty name
public partial record Nameless;

[Job("retry", MaxAttempts = 0)] // JOBS008: MaxAttempts < 1
public partial record NeverRuns;

public sealed class Plain { }

public sealed class PlainHandler : IJobHandler<Plain> // JOBS009: Plain is not a job
{
    public Task HandleAsync(Plain job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

[Job("upload")]
public partial record Upload(string Name, Stream Content); // JOBS010: Stream is not serializable

public sealed class SendEmailHandler : IJobHandler<SendEmail>
{
    public async Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(10)); // JOBS011: token not forwarded
        Console.WriteLine(job.To);
    }
}

public static class Program
{
    public static void Configure(IServiceCollection services)
        => services.AddJobs(jobs => jobs
            .UseInMemory()
            .AddJob<SendEmail, SendEmailHandler>()
            .AddJob<SendEmail, SendEmailHandler>() // JOBS002: registered twice
            .AddWorkers());

    public static async Task PushAsync(JobQueue queue, CancellationToken cancellationToken)
    {
        await queue.PushAsync(new SendEmail("a@example.com", "hi"), cancellationToken: cancellationToken);
        await queue.PushAsync(new ResizeImage("a.png", 100), cancellationToken: cancellationToken); // JOBS001: no handler
    }
}
