namespace Jobs.Sdk.Admin.Tests;

public sealed class InMemoryAdminTests : AdminConformanceTests
{
    protected override void UseDriver(JobsBuilder jobs, RetentionPolicy retention) => jobs.UseInMemory(o =>
    {
        o.QueueName = "mem-" + Guid.NewGuid().ToString("N")[..6];
        o.Retention = retention;
    });
}
