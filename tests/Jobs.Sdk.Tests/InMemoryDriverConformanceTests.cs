using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests;

/// <summary>The <see cref="IJobDriver"/> contract (tests/Shared/Conformance) on the in-memory driver, on a fake clock.</summary>
public sealed class InMemoryDriverConformanceTests : JobDriverConformanceTests
{
    private readonly FakeTimeProvider _time = FakeTime.Create();

    protected override DateTimeOffset Now => _time.GetUtcNow();

    protected override Task<IJobDriver> CreateDriverAsync(RetentionPolicy retention)
        => Task.FromResult<IJobDriver>(new InMemoryJobDriver(new InMemoryJobDriverOptions { Retention = retention }, _time));

    /// <summary>The driver itself: it is its own admin store, over every queue view.</summary>
    protected override IJobAdminStore AdminStore(IJobDriver driver) => (IJobAdminStore)driver;

    /// <summary>Short, so that moving the fake clock past it leaves minute-long leases valid.</summary>
    protected override TimeSpan ShortLease => TimeSpan.FromSeconds(5);

    /// <summary>Moves the fake clock past every <see cref="JobDriverConformanceTests.ShortLease"/> (and not past a minute-long one).</summary>
    protected override Task ExpireLeaseAsync(IJobDriver driver, JobId id)
    {
        _time.Advance(ShortLease + TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    /// <summary>Moves the fake clock (the buckets refill on the driver's TimeProvider).</summary>
    protected override Task AgeRateLimitBucketAsync(IJobDriver driver, TimeSpan by)
    {
        _time.Advance(by);
        return Task.CompletedTask;
    }
}
