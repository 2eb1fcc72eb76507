namespace Jobs.Sdk.InMemory;

// Deadlocks between ambient transactions: a push in a transaction that must wait for another one (UncommittedBlocker)
// first looks along the wait-for graph (transaction -> the transactions its pushes wait for). When the one it would wait
// for waits, directly or through others, for it, the push fails with 40P01 and its transaction is aborted (its pushes
// dropped, its keys freed), as PostgreSQL's deadlock detector fails one participant, so that the others go on at once
// instead of waiting for each other until the scopes time out.
public sealed partial class InMemoryJobDriver
{
    /// <summary>
    /// Notes that <paramref name="push"/> (null: a push outside any transaction, which holds nothing and closes no cycle)
    /// waits for <paramref name="blocker"/>; when that closes a cycle, aborts <paramref name="push"/> and throws the
    /// deadlock. Under the lock; <see cref="WaitAsync"/> then waits outside it.
    /// </summary>
    private void StartWaiting(AmbientPush? push, Blocker blocker)
    {
        if (push is null)
        {
            return;
        }

        CheckOpen(push); // a push of a transaction a deadlock aborted while this one waited
        if (Reaches(blocker.Holder, push))
        {
            push.Aborted = true;
            Release(push, commit: false);
            throw InMemoryTransactionException.Deadlock(blocker.What);
        }

        push.WaitingFor.Add(blocker.Holder);
    }

    /// <summary>Waits (outside the lock) until <paramref name="blocker"/>'s transaction ended, then takes <paramref name="push"/>'s wait off the graph.</summary>
    private async Task WaitAsync(AmbientPush? push, Blocker blocker, CancellationToken cancellationToken)
    {
        try
        {
            await blocker.Holder.Settled.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (push is not null)
            {
                lock (_gate)
                {
                    push.WaitingFor.Remove(blocker.Holder);
                }
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="from"/> waits, directly or through other transactions, for <paramref name="target"/> (or is
    /// it). A transaction that ended waits for nothing any more (a wait it left is taken off just after). Under the lock.
    /// </summary>
    private static bool Reaches(AmbientPush from, AmbientPush target)
    {
        var seen = new HashSet<AmbientPush>();
        var next = new Stack<AmbientPush>();
        next.Push(from);
        while (next.TryPop(out var push))
        {
            if (push == target)
            {
                return true;
            }

            if (push.Settled.IsCompleted || !seen.Add(push))
            {
                continue;
            }

            foreach (var waited in push.WaitingFor)
            {
                next.Push(waited);
            }
        }

        return false;
    }
}
