using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

// A bulk action's batch in statements the store's time limit lets pass.
public sealed partial class JobAdmin
{
    /// <summary>
    /// Applies <paramref name="action"/> to <paramref name="batch"/> (one batch of the walk) in statements of at most
    /// <paramref name="size"/> jobs, each its own transaction, telling <paramref name="committed"/> the rows each one changed.
    /// A statement the store cancelled for running past its time limit (<see cref="JobBatchTimeoutException"/>) was rolled
    /// back, nothing of it changed: its jobs are tried again, half of them at a time (<see cref="BulkStatementSize"/>), so
    /// none is skipped and none changed twice. A single job's statement that runs past the limit ends the action with that
    /// exception (its message says how to raise the limit), as does a cancellation of <paramref name="cancellationToken"/>
    /// with its own exception: neither is tried again. A statement that changed its jobs but those other transactions held
    /// locked (<see cref="JobsLockedException"/>) counts its changes, and its jobs left go to <paramref name="locked"/>.
    /// </summary>
    private async Task ApplyInStatementsAsync(JobAdminAction action, IReadOnlyList<JobId> batch, BulkStatementSize size, Action<int> committed,
        BulkLockedJobs locked, CancellationToken cancellationToken)
    {
        for (var start = 0; start < batch.Count;)
        {
            var count = Math.Min(size.Current, batch.Count - start);
            var ids = count == batch.Count ? batch : batch.Skip(start).Take(count).ToArray();
            int changed;
            try
            {
                changed = await Store.ApplyAsync(action, ids, cancellationToken).ConfigureAwait(false);
            }
            catch (JobBatchTimeoutException) when (count > 1 && !cancellationToken.IsCancellationRequested)
            {
                size.TimedOut(count);
                continue;
            }
            catch (JobsLockedException left) when (!cancellationToken.IsCancellationRequested)
            {
                // The statement committed its other jobs and left those other transactions hold: the action goes on.
                changed = left.Changed;
                locked.Add(left);
            }

            committed(changed);
            size.Committed();
            start += count;
        }
    }
}
