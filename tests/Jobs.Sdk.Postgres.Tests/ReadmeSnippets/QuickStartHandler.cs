using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Handlers and registration".
namespace ReadmeSnippets.QuickStart;

/// <summary>The application's mail sender the README's handler takes.</summary>
public interface IMailer
{
    /// <summary>Sends one mail.</summary>
    Task SendAsync(string to, string subject, CancellationToken cancellationToken);
}

internal static class RegisterHandler
{
    // Compiled, never called.
    internal static void Register(Microsoft.Extensions.Hosting.HostApplicationBuilder builder)
    {
        #region readme-register-handler
        builder.Services.AddJobs(jobs => jobs
            .UseInMemory()                                   // or .UsePostgres(...)
            .AddJob<SendEmail, SendEmailHandler>()           // or the generated .AddSendEmail<SendEmailHandler>()
            .AddWorkers(o => o.Concurrency = 16));
        #endregion
    }
}

#region readme-register-handler
public sealed class SendEmailHandler(IMailer mailer) : IJobHandler<SendEmail>
{
    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken)
        => mailer.SendAsync(job.To, job.Subject, cancellationToken);
}
#endregion
