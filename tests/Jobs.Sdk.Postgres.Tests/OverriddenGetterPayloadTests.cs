using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A property that overrides only the getter of a virtual settable one (<c>public override string Tenant =&gt;
/// base.Tenant.Trim();</c>) keeps the base's public <c>set</c> or <c>init</c>, so a pusher sets it as any other. The
/// generated serializer took it for a get-only property (the override declares no setter): it neither wrote nor read it, and
/// the handler ran with the default, without a warning.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OverriddenGetterPayloadTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_property_overriding_only_the_getter_of_a_settable_one_reaches_the_handler()
    {
        var seen = new Recorder<TenantReportJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddTenantReportJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();
        var pushed = new TenantReportJob { Tenant = " acme ", Pages = 3, Scope = new ReportScope { Region = " eu-west " } };

        var id = await q.Queue.PushTenantReportJobAsync(pushed);
        await seen.WaitForCountAsync(1, 60);

        var read = Assert.Single(seen.Items);
        var payload = (await q.Services.GetRequiredService<JobAdmin>().GetJobAsync(id))?.Payload;
        Assert.True((read.Tenant, read.Pages, read.Scope.Region) == ("acme", 3, "eu-west"),
            $"The handler got Tenant '{read.Tenant}', Pages {read.Pages}, Scope.Region '{read.Scope.Region}' for a job pushed with " +
            "Tenant ' acme ', Pages 3, Scope.Region ' eu-west ' (the overriding getters trim them); stored payload: " + payload);
    }
}

/// <summary>What every tenant job carries.</summary>
public abstract class TenantJobBase
{
    /// <summary>The tenant, as given.</summary>
    public virtual string Tenant { get; set; } = "";
}

/// <summary>A job whose tenant is read trimmed: the override declares only the getter, the setter is the base's.</summary>
[Job("test.tenant-report")]
public sealed partial class TenantReportJob : TenantJobBase
{
    /// <summary>The tenant, trimmed.</summary>
    public override string Tenant => base.Tenant.Trim();

    /// <summary>Pages to render.</summary>
    public int Pages { get; set; }

    /// <summary>Where the report looks.</summary>
    public ReportScope Scope { get; set; } = new();
}

/// <summary>A base with a virtual init-only member.</summary>
public abstract record ScopeBase
{
    /// <summary>The region, as given.</summary>
    public virtual string Region { get; init; } = "";
}

/// <summary>A nested record overriding only the getter of an init-only member.</summary>
public sealed record ReportScope : ScopeBase
{
    /// <summary>The region, trimmed.</summary>
    public override string Region => base.Region.Trim();
}
