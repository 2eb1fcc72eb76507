using Jobs.Sdk;
using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Queues and flow control".
namespace ReadmeSnippets.Queues;

/// <summary>The report the README pushes to another queue.</summary>
[Job("rebuild-report")]
public partial record RebuildReport(string Name);

internal static class Queues
{
    // Compiled, never called.
    internal static async Task Configure(IServiceCollection services, string connectionString, JobQueue queue, RebuildReport report, Guid id, DateTimeOffset now, ImportFile file)
    {
        #region readme-queues
        services.AddJobs(jobs => jobs
            .UsePostgres(connectionString)
            .AddQueue("emails", q => { q.Concurrency = 8; q.GlobalConcurrency = 20; q.RateLimit = RateLimit.PerSecond(100); })
            .AddQueue("reports", q => q.Concurrency = 2)
            .AddGeneratedJobs()
            .AddWorkers());

        await queue.PushAsync(report, new JobOptions { Queue = "reports" });            // per-push queue
        JobPushResult r = await queue.TryPushAsync(new SyncAccount(id, now));           // r.Inserted: false when the key was held
        await queue.PushAsync(file, new JobOptions { ConcurrencyKey = "tenant:42" });    // per-push key, used as given
        await queue.PauseQueueAsync("emails", reason: "provider outage");                // cluster-wide; other queues keep running
        #endregion
    }
}

#region readme-queues
[Job("send-email", Queue = "emails")]                  // the type's default queue (the driver's queue when omitted)
public partial record SendEmail(string To, string Subject);

[Job("sync-account", Unique = true, UniqueFor = 3600)]  // one waiting/running job per key; the key holds 1 h after it finished
public partial record SyncAccount([property: UniqueKey] Guid AccountId, DateTimeOffset RequestedAt);

[Job("import-file", ConcurrencyLimit = 1)]             // one running per tenant, cluster-wide, in push order per tenant
public partial record ImportFile([property: ConcurrencyKey] string TenantId, string Path);
#endregion
