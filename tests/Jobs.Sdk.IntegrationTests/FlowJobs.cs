using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>A job with its own default queue.</summary>
[Job("it.send-mail", Queue = "it-mail")]
public partial record SendMail(string To);

/// <summary>A unique job keyed by account (and region); the key holds an hour after the job finished.</summary>
[Job("it.sync-account", Unique = true, UniqueFor = 3600)]
public partial record SyncAccount([property: UniqueKey] Guid AccountId, [property: UniqueKey] Level? Region, DateTimeOffset RequestedAt);

/// <summary>A unique job without key members: the whole payload is the key.</summary>
[Job("it.rebuild", Unique = true)]
public partial record Rebuild(string Index, int Shard);

/// <summary>One import at a time per tenant, in push order.</summary>
[Job("it.import-file", ConcurrencyLimit = 1)]
public partial record ImportFile([property: ConcurrencyKey] string TenantId, [property: ConcurrencyKey] int? Region, string Path);

/// <summary>A limit without key members: at most two renders at once, whatever the page.</summary>
[Job("it.render", ConcurrencyLimit = 2)]
public partial record Render(int Page);

/// <summary>A unique job keyed by date and time members (the period a report covers).</summary>
[Job("it.period-report", Unique = true)]
public partial record PeriodReport([property: UniqueKey] DateTimeOffset From, [property: UniqueKey] DateTime Day, string RequestedBy);

/// <summary>A class job whose key marks sit on its constructor's parameters (bound to the properties ignoring case).</summary>
[Job("it.sync-tenant", Unique = true, ConcurrencyLimit = 1)]
public sealed partial class SyncTenant
{
    /// <summary>Creates the job.</summary>
    public SyncTenant([UniqueKey, ConcurrencyKey] string tenant, int attempt)
    {
        Tenant = tenant;
        Attempt = attempt;
    }

    /// <summary>The tenant (the key).</summary>
    public string Tenant { get; }

    /// <summary>Not part of the key.</summary>
    public int Attempt { get; }
}
