using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Pushing jobs".
namespace ReadmeSnippets.QuickStart;

internal static class PushJobs
{
    // Compiled, never called.
    internal static async Task Push(Microsoft.Extensions.Hosting.IHost host, IEnumerable<SendEmail> emails, IEnumerable<SendEmail> reminders)
    {
        #region readme-push-jobs
        var queue = host.Services.GetRequiredService<JobQueue>();
        JobId id = await queue.PushAsync(new SendEmail("a@b.c", "hi"),
            new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddMinutes(2), Priority = JobPriority.Highest });
        await queue.PushManyAsync(emails);                   // one batch, any size
        await queue.PushManyAsync(reminders, new JobOptions { Priority = JobPriority.Lower, MaxAttempts = 2 }); // one JobOptions for the whole batch
        JobId fromLog = JobId.Parse("0192f0c4-7a3e-7b6e-9a55-3f1d2c4b5a69");              // ids round-trip through ToString()
        #endregion
    }
}
