using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A fault the process chaos tests inject (<see cref="ChaosFaults"/>).</summary>
internal enum ChaosFault
{
    /// <summary>SIGKILL one process and start its replacement behind the same proxy.</summary>
    Kill,

    /// <summary>Restart the PostgreSQL server.</summary>
    ServerRestart,

    /// <summary>Reset every connection of one process.</summary>
    Cut,

    /// <summary>Hold every byte of one process, both ways, for 1–4 s (a network partition).</summary>
    Partition,

    /// <summary>For 0.3–1.5 s one process's requests reach the server and commit; their replies never come back.</summary>
    LostReplies,
}

/// <summary>
/// The faults of the seeded process chaos tests, applied to worker processes that each reach the server through their own
/// <see cref="TcpProxy"/>; every process a fault touched is recorded in <see cref="Faulted"/> (a run of theirs may have
/// ended unreported). The waits are the chaos schedule, not synchronisation.
/// </summary>
internal sealed class ChaosFaults(LocalPostgresCluster cluster, List<TcpProxy> proxies, List<WorkerProcess> workers,
    Func<TcpProxy, Task<WorkerProcess>> start, Random rng, ITestOutputHelper output)
{
    /// <summary>Process ids a fault touched.</summary>
    public List<int> Faulted { get; } = [];

    /// <summary>Applies <paramref name="fault"/> (event <paramref name="k"/>) to a process the seed picks.</summary>
    public async Task ApplyAsync(ChaosFault fault, int k)
    {
        var victim = rng.Next(workers.Count);
        var pid = workers[victim].Id;
        switch (fault)
        {
            case ChaosFault.Kill:
                Faulted.Add(pid);
                workers[victim].Kill();
                workers[victim].Dispose();
                workers[victim] = await start(proxies[victim]);
                output.WriteLine($"event {k}: killed pid {pid}");
                break;
            case ChaosFault.ServerRestart:
                await cluster.RestartAsync();
                output.WriteLine($"event {k}: restarted the server");
                break;
            case ChaosFault.Cut:
                Faulted.Add(pid);
                proxies[victim].CutAll();
                output.WriteLine($"event {k}: cut pid {pid}'s connections");
                break;
            case ChaosFault.Partition:
            {
                Faulted.Add(pid);
                var during = 1000 + rng.Next(3000);
                proxies[victim].Stall();
                try
                {
                    await Task.Delay(during);
                }
                finally
                {
                    proxies[victim].Resume();
                }

                output.WriteLine($"event {k}: partitioned pid {pid} for {during} ms");
                break;
            }

            default:
            {
                Faulted.Add(pid);
                var during = 300 + rng.Next(1200);
                proxies[victim].HoldReplies();
                try
                {
                    await Task.Delay(during);
                }
                finally
                {
                    proxies[victim].CutHeld();
                    proxies[victim].Resume();
                }

                output.WriteLine($"event {k}: lost pid {pid}'s replies for {during} ms");
                break;
            }
        }
    }

    /// <summary>A count that waits out a server restart (the pool's connections drop with it).</summary>
    public static async Task<long> CountAsync(NpgsqlDataSource db, string sql)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await db.ScalarAsync(sql);
            }
            catch (NpgsqlException) when (i < 50)
            {
                await Task.Delay(200);
            }
        }
    }
}
