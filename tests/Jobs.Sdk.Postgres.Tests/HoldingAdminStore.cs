using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Passes every call to the real admin store, except that once <see cref="Hold"/> is set the next worker heartbeat waits for
/// <see cref="Release"/> and ignores its token (as a store call stuck on a dead socket does): a deterministic place for a
/// presence report still running when the host stops and disposes.
/// </summary>
public sealed class HoldingAdminStore(IJobAdminStore inner) : DelegatingAdminStore(inner)
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _hold;

    /// <summary>Completes when a heartbeat reported after <see cref="Hold"/> is waiting.</summary>
    public Task Entered => _entered.Task;

    /// <summary>The next heartbeat waits for <see cref="Release"/>.</summary>
    public void Hold() => _hold = true;

    /// <summary>Lets a held heartbeat go on.</summary>
    public void Release() => _release.TrySetResult();

    public override async Task ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        if (_hold)
        {
            _entered.TrySetResult();
            await _release.Task;
        }

        await base.ReportWorkerAsync(heartbeat, cancellationToken);
    }
}
