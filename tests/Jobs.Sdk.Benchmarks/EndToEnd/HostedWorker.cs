using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// The worker of a benchmark's service provider, after what a Generic Host's start does before the worker starts: apps run
/// workers in a host, where <c>UsePostgres</c>'s start-up check reserves each served queue's claim-and-renewal connection
/// (<c>WorkerConnection</c>). The benchmark builds no host (it starts the worker itself, inside its timing window), so it
/// runs that check here; without it, claims would take pooled connections, a path no hosted worker takes.
/// </summary>
internal static class HostedWorker
{
    public static JobWorker HostedWorkerOf(this IServiceProvider services)
    {
        foreach (var service in services.GetServices<IHostedService>())
        {
            if (service.GetType().Name == "PostgresWorkerPoolCheck")
            {
                service.StartAsync(CancellationToken.None).GetAwaiter().GetResult(); // synchronous: it only checks and reserves
            }
        }

        return services.GetRequiredService<JobWorker>();
    }
}
