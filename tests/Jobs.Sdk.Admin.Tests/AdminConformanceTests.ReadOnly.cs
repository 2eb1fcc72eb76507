namespace Jobs.Sdk.Admin.Tests;

// JobAdmin.GetReadOnlyReasonAsync: whether the store's server refuses writes (what a dashboard that only reads cannot learn
// from its reads).
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task A_writable_store_says_it_accepts_writes()
    {
        await using var host = await CreateHost().StartAsync();
        await host.Queue.PushAsync(new AdminJob(1, "w"));
        Assert.Null(await host.Admin.GetReadOnlyReasonAsync());
    }
}
