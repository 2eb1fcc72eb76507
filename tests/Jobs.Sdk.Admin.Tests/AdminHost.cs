using System.Text.Json;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Admin.Tests;

/// <summary>A test job: negative values fail with "boom {Tag}".</summary>
public sealed record AdminJob(int Value, string Tag) : IJob<AdminJob>
{
    public static string JobName => "admin.job";

    public static void Serialize(Utf8JsonWriter writer, AdminJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("value", job.Value);
        writer.WriteString("tag", job.Tag);
        writer.WriteEndObject();
    }

    public static AdminJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new AdminJob(doc.RootElement.GetProperty("value").GetInt32(), doc.RootElement.GetProperty("tag").GetString()!);
    }
}

/// <summary>A second job name, never handled.</summary>
public sealed record OtherJob(string Text) : IJob<OtherJob>
{
    public static string JobName => "admin.other";

    public static void Serialize(Utf8JsonWriter writer, OtherJob job)
    {
        writer.WriteStartObject();
        writer.WriteString("text", job.Text);
        writer.WriteEndObject();
    }

    public static OtherJob Deserialize(ReadOnlySpan<byte> utf8Json) => new("");
}

/// <summary>A unique job whose whole payload is its key (no <c>[UniqueKey]</c> member); negative values fail.</summary>
public sealed record AdminUniqueJob(int Value) : IJob<AdminUniqueJob>
{
    public static string JobName => "admin.unique";

    public static bool Unique => true;

    public static void Serialize(Utf8JsonWriter writer, AdminUniqueJob job) => IntMemberJson.Write(writer, "value", job.Value);

    public static AdminUniqueJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>
/// A unique job keyed by <see cref="Key"/> alone (its <c>[UniqueKey]</c> member: two payloads, one key), held an hour after
/// it finished. Only code that has the type can compute that key.
/// </summary>
public sealed record AdminKeyedJob(int Key, int Value) : IJob<AdminKeyedJob>
{
    public static string JobName => "admin.keyed";

    public static bool Unique => true;

    public static int UniqueForSeconds => 3600;

    public static string? GetUniqueKey(AdminKeyedJob job) => job.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static void Serialize(Utf8JsonWriter writer, AdminKeyedJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("key", job.Key);
        writer.WriteNumber("value", job.Value);
        writer.WriteEndObject();
    }

    public static AdminKeyedJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new AdminKeyedJob(doc.RootElement.GetProperty("key").GetInt32(), doc.RootElement.GetProperty("value").GetInt32());
    }
}

/// <summary>
/// A unique job whose whole payload is its key, held one second after it finished: a test waits for its hold to end on
/// the store's clock (pushing its key again until it is free) instead of moving that clock.
/// </summary>
public sealed record AdminBrieflyHeldJob(int Value) : IJob<AdminBrieflyHeldJob>
{
    public static string JobName => "admin.briefly-held";

    public static bool Unique => true;

    public static int UniqueForSeconds => 1;

    public static void Serialize(Utf8JsonWriter writer, AdminBrieflyHeldJob job) => IntMemberJson.Write(writer, "value", job.Value);

    public static AdminBrieflyHeldJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>
/// A job with a concurrency limit of 1 per <see cref="Tenant"/> (its <c>[ConcurrencyKey]</c> member): two payloads of one
/// tenant share a key; only code that has the type can compute it.
/// </summary>
public sealed record AdminLimitedJob(string Tenant, int Value) : IJob<AdminLimitedJob>
{
    public static string JobName => "admin.limited";

    public static int? ConcurrencyLimit => 1;

    public static string GetConcurrencyKey(AdminLimitedJob job) => JobName + ":" + job.Tenant;

    public static void Serialize(Utf8JsonWriter writer, AdminLimitedJob job)
    {
        writer.WriteStartObject();
        writer.WriteString("tenant", job.Tenant);
        writer.WriteNumber("value", job.Value);
        writer.WriteEndObject();
    }

    public static AdminLimitedJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new AdminLimitedJob(doc.RootElement.GetProperty("tenant").GetString()!, doc.RootElement.GetProperty("value").GetInt32());
    }
}

/// <summary>A job whose type routes it to queue <see cref="QueueName"/> (not the driver's default queue).</summary>
public sealed record AdminReportJob(int Value) : IJob<AdminReportJob>
{
    public const string QueueName = "admin-reports";

    public static string JobName => "admin.report";

    public static string? Queue => QueueName;

    public static void Serialize(Utf8JsonWriter writer, AdminReportJob job) => IntMemberJson.Write(writer, "value", job.Value);

    public static AdminReportJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>A host with AddJobs on one driver; workers and schedules optional.</summary>
public sealed class AdminHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _started;

    private AdminHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;
    public JobQueue Queue => Services.GetRequiredService<JobQueue>();
    public JobAdmin Admin => Services.GetRequiredService<JobAdmin>();
    public IJobDriver Driver => Services.GetRequiredService<IJobDriver>();

    public static AdminHost Create(Action<JobsBuilder> useDriver, bool workers = false, Action<JobsBuilder>? more = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs =>
        {
            useDriver(jobs);
            jobs.AddJob<AdminJob>((job, ctx, ct) => job.Value < 0 ? throw new InvalidOperationException("boom " + job.Tag) : Task.CompletedTask);
            if (workers)
            {
                jobs.AddWorkers(o =>
                {
                    o.LeaseDuration = TimeSpan.FromSeconds(3);
                    o.RescueInterval = TimeSpan.FromSeconds(1);
                    o.ShutdownTimeout = TimeSpan.FromSeconds(5);
                });
            }

            more?.Invoke(jobs);
        });
        return new AdminHost(builder.Build());
    }

    public async Task<AdminHost> StartAsync()
    {
        await _host.StartAsync();
        _started = true;
        return this;
    }

    public async Task StopAsync()
    {
        if (_started)
        {
            _started = false;
            await _host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_host is IAsyncDisposable d)
        {
            await d.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }
    }
}

public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds, failing after a deadline (no fixed sleeps as synchronisation).</summary>
    public static async Task<T> GetAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for: {what}.");
            }

            await Task.Delay(20);
        }
    }
}
