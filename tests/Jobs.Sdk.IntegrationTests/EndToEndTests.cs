using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.IntegrationTests;

public sealed class EndToEndTests : IAsyncLifetime
{
    private readonly Recorder _recorder = new();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(_recorder);
        services.AddJobs(jobs => jobs
            .UseInMemory(o => o.PollInterval = TimeSpan.FromMilliseconds(50))
            .AddReportJob((job, context, cancellationToken) =>
            {
                _recorder.Record("report-delegate:" + job.Title, job);
                return Task.CompletedTask;
            })
            .AddGeneratedJobs()
            .AddWorkers());
        _services = services.BuildServiceProvider();
        foreach (var hosted in _services.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var hosted in _services.GetServices<IHostedService>())
        {
            await hosted.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }

        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Record_job_pushed_with_typed_parameters_reaches_its_handler_with_equal_values()
    {
        var queue = _services.GetRequiredService<JobQueue>();
        var orderId = Guid.NewGuid();
        List<OrderLine> lines = [new("sku-1", 3, 4.20m), new("sku-2", 1, 100m)];
        var placedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(-3));

        await queue.PushShipOrderJobAsync(orderId, "alice", lines, Level.High, new Dictionary<string, string> { ["k"] = "v" }, 5m, placedAt,
            new JobOptions { Priority = JobPriority.Higher }).WaitAsync(TimeSpan.FromSeconds(30));

        var received = await _recorder.WaitAsync<ShipOrderJob>("ship-order:alice");
        Assert.Equal(orderId, received.OrderId);
        Assert.Equal(lines, received.Lines);
        Assert.Equal(Level.High, received.Level);
        Assert.Equal("v", received.Tags["k"]);
        Assert.Equal(5m, received.Discount);
        Assert.Equal(placedAt, received.PlacedAt);
    }

    [Fact]
    public async Task Struct_job_object_overload_reaches_its_handler()
    {
        var queue = _services.GetRequiredService<JobQueue>();
        var job = new ReindexJob(42, TimeSpan.FromHours(2), Full: false);

        await queue.PushReindexJobAsync(job).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(job, await _recorder.WaitAsync<ReindexJob>("reindex:42"));
    }

    [Fact]
    public async Task Class_job_with_init_properties_uses_the_explicitly_registered_delegate()
    {
        var queue = _services.GetRequiredService<JobQueue>();

        await queue.PushReportJobAsync(new ReportJob { Title = "weekly", Recipients = ["ops@example.com"], PageSize = 7 }).WaitAsync(TimeSpan.FromSeconds(30));

        var received = await _recorder.WaitAsync<ReportJob>("report-delegate:weekly");
        Assert.Equal(7, received.PageSize);
        Assert.Equal(["ops@example.com"], received.Recipients);
    }

    [Fact]
    public async Task Json_context_job_reaches_its_handler()
    {
        var queue = _services.GetRequiredService<JobQueue>();

        await queue.PushVersionedJobAsync(new Version(2, 0, 1), 7).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(new VersionedJob(new Version(2, 0, 1), 7), await _recorder.WaitAsync<VersionedJob>("versioned:7"));
    }

    [Fact]
    public async Task Job_deriving_from_a_generic_base_record_reaches_its_handler_with_its_inherited_members()
    {
        var queue = _services.GetRequiredService<JobQueue>();
        var job = new GenericBaseJob("inherited") { Expected = 7, CorrelationId = Guid.NewGuid() };

        await queue.PushGenericBaseJobAsync(job).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(job, await _recorder.WaitAsync<GenericBaseJob>("generic-base:inherited"));
    }

    [Fact]
    public void Generated_registration_registered_every_job_with_a_handler()
    {
        var builder = _services.GetRequiredService<JobsBuilder>();
        Assert.True(Jobs.Sdk.Infrastructure.JobRegistrationServices.IsRegistered(builder, "ship-order"));
        Assert.True(Jobs.Sdk.Infrastructure.JobRegistrationServices.IsRegistered(builder, "reindex"));
        Assert.True(Jobs.Sdk.Infrastructure.JobRegistrationServices.IsRegistered(builder, "report"));
        Assert.True(Jobs.Sdk.Infrastructure.JobRegistrationServices.IsRegistered(builder, "versioned"));
        Assert.False(Jobs.Sdk.Infrastructure.JobRegistrationServices.IsRegistered(builder, "all-types"));
    }
}
