using System.Runtime.CompilerServices;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The connections the worker hosts of this process keep open for good, per data source: hosts that share one
/// <see cref="NpgsqlDataSource"/> draw them from one pool, so each one's start check (<see cref="PostgresWorkerPoolCheck"/>)
/// counts the ones the others keep. A driver's count holds from its check until the driver is disposed.
/// </summary>
internal static class KeptConnections
{
    private static readonly ConditionalWeakTable<NpgsqlDataSource, Dictionary<PostgresJobDriver, int>> Kept = new();

    /// <summary>
    /// Counts <paramref name="count"/> connections of <paramref name="dataSource"/> kept by <paramref name="driver"/>'s workers
    /// when its pool of at most <paramref name="maxPoolSize"/> holds them with the other drivers' and one more; returns false
    /// otherwise (nothing counted), with <paramref name="keptByOthers"/>: the connections the other drivers on it keep.
    /// </summary>
    public static bool TryKeep(NpgsqlDataSource dataSource, PostgresJobDriver driver, int count, int maxPoolSize, out int keptByOthers)
    {
        var kept = Kept.GetOrCreateValue(dataSource);
        lock (kept)
        {
            keptByOthers = kept.Where(k => !ReferenceEquals(k.Key, driver)).Sum(static k => k.Value);
            if (keptByOthers + count + 1 > maxPoolSize)
            {
                return false;
            }

            kept[driver] = count;
            return true;
        }
    }

    /// <summary><paramref name="driver"/>'s workers keep no connection of <paramref name="dataSource"/> any more.</summary>
    public static void Release(NpgsqlDataSource dataSource, PostgresJobDriver driver)
    {
        if (Kept.TryGetValue(dataSource, out var kept))
        {
            lock (kept)
            {
                kept.Remove(driver);
            }
        }
    }
}
