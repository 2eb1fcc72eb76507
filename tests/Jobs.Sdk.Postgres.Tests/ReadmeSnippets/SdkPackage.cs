using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;

// src/Jobs.Sdk/README.md's code (the package's readme), compiled with exactly the usings it shows
// (ReadmeCodeBlockTests checks the readme shows the region verbatim).
namespace ReadmeSnippets.SdkPackage;

/// <summary>The application's handler the readme registers.</summary>
public sealed class SendEmailHandler : IJobHandler<SendEmail>
{
    /// <inheritdoc />
    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static class SdkPackage
{
    // Compiled, never called.
    internal static async Task Configure(IServiceCollection services, JobQueue queue)
    {
        #region readme-sdk-package
        services.AddJobs(jobs => jobs
            .UseInMemory()                        // or .UsePostgres(...) from Jobs.Sdk.Postgres
            .AddSendEmail<SendEmailHandler>()     // generated from [Job("send-email")]
            .AddWorkers());

        await queue.PushSendEmailAsync("ada@example.com", "Welcome");   // generated, typed push
        #endregion
    }
}

#region readme-sdk-package
[Job("send-email")]
public partial record SendEmail(string To, string Subject);
#endregion
