using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>A base record shared by a tenant's jobs: its key marks apply to every job deriving from it.</summary>
public abstract record TenantJobBase
{
    /// <summary>The tenant: the unique key and the concurrency key.</summary>
    [UniqueKey]
    [ConcurrencyKey]
    public string Tenant { get; init; } = "";
}

/// <summary>A unique, one-at-a-time-per-tenant job whose key member is inherited.</summary>
/// <param name="Page">Its own member (not part of the keys).</param>
[Job("it.inherited-keys", Unique = true, ConcurrencyLimit = 1)]
public sealed partial record InheritedKeysJob(int Page) : TenantJobBase;

/// <summary>[UniqueKey] and [ConcurrencyKey] on a member the job type inherits from its base record.</summary>
public class InheritedKeyTests
{
    [Fact]
    public void Key_marks_on_an_inherited_member_key_the_job_by_that_member()
    {
        var first = new InheritedKeysJob(1) { Tenant = "tenant-a" };
        var second = new InheritedKeysJob(2) { Tenant = "tenant-a" };

        Assert.Equal("tenant-a", KeyOf(first));
        Assert.Equal(KeyOf(first), KeyOf(second));
        Assert.Equal("it.inherited-keys:tenant-a", ConcurrencyKeyOf(first));
    }

    private static string? KeyOf<T>(T job) where T : IJob<T> => T.GetUniqueKey(job);

    private static string ConcurrencyKeyOf<T>(T job) where T : IJob<T> => T.GetConcurrencyKey(job);
}
