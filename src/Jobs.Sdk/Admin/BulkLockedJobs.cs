namespace Jobs.Sdk;

/// <summary>
/// The jobs a bulk action of <see cref="JobAdmin"/> left because other transactions held their rows locked: each
/// statement's <see cref="JobsLockedException"/> from the store (its other jobs changed), gathered over the walk, so the
/// action goes on with every job it can and ends with one exception that lists them all and who held them.
/// </summary>
internal sealed class BulkLockedJobs
{
    /// <summary>How many of the jobs left the message lists by id (all of them are in <see cref="JobsLockedException.LockedJobs"/>).</summary>
    private const int IdsInMessage = 20;

    private readonly List<JobId> _jobs = [];
    private readonly List<string> _holders = [];
    private Exception? _last;

    /// <summary>The jobs left so far.</summary>
    public int Count => _jobs.Count;

    /// <summary>A statement left <paramref name="locked"/>'s jobs.</summary>
    public void Add(JobsLockedException locked)
    {
        _jobs.AddRange(locked.LockedJobs);
        foreach (var holder in locked.Holders)
        {
            if (!_holders.Contains(holder, StringComparer.Ordinal))
            {
                _holders.Add(holder);
            }
        }

        _last = locked;
    }

    /// <summary>The holders, one string.</summary>
    public string Holders => _holders.Count == 0 ? "transactions that ended before their sessions could be read" : string.Join("; ", _holders);

    /// <summary>The exception that ends action <paramref name="name"/>, which changed <paramref name="changed"/> jobs.</summary>
    public JobsLockedException Exception(string name, int changed)
    {
        var ids = string.Join(", ", _jobs.Take(IdsInMessage));
        var more = _jobs.Count > IdsInMessage ? $" and {_jobs.Count - IdsInMessage} more (JobsLockedException.LockedJobs)" : "";
        return new JobsLockedException(
            $"The bulk action '{name}' changed {changed} job(s) and left {_jobs.Count} unchanged because other transactions held their rows locked " +
            $"past its lock wait: {ids}{more}. Held by: {Holders}. End those transactions (PostgreSQL: SELECT pg_terminate_backend(pid)) or wait for " +
            "them to commit or roll back, then run the action again on the jobs left.", changed, [.. _jobs], [.. _holders], _last);
    }
}
