using System.Transactions;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// Pushes given no transaction inside the caller's ambient transaction (a TransactionScope) join it, as on PostgreSQL: the
// jobs of a scope are kept aside, invisible to claims, reads and the unique checks of other code, and stored at its
// commit (waking the idle workers), or dropped when it rolls back. One volatile enlistment per transaction and store.
public sealed partial class InMemoryJobDriver
{
    /// <summary>The open transactions' pushes, by transaction (the root's; under the lock).</summary>
    private readonly Dictionary<Transaction, AmbientPush> _ambient = [];

    /// <summary>Ids of this queue's jobs pushed in a transaction that has not ended (under the lock).</summary>
    private readonly Dictionary<JobId, AmbientPush> _uncommittedIds = [];

    /// <summary>
    /// Concurrency keys of this queue whose jobs a transaction that has not ended pushed (a PostgreSQL push holds its
    /// key's lock to the commit); under the lock.
    /// </summary>
    private readonly Dictionary<string, AmbientPush> _uncommittedConcurrencyKeys = new(StringComparer.Ordinal);

    /// <summary>Unique keys of this queue taken by a push in a transaction that has not ended, and the job that took each (under the lock).</summary>
    private readonly Dictionary<string, (AmbientPush Push, JobId Id)> _uncommittedKeys = new(StringComparer.Ordinal);

    /// <inheritdoc />
    bool IAmbientTransactionPushes.JoinsAmbientTransaction => Transaction.Current is not null;

    /// <summary>
    /// The pushes of <paramref name="ambient"/> on this store: the existing ones, or new ones enlisted in it. Throws the
    /// transaction's own <see cref="TransactionException"/> when it can no longer be joined (it aborted: a nested scope
    /// ended without <see cref="TransactionScope.Complete"/>, or it timed out), as a PostgreSQL push's enlistment does.
    /// </summary>
    private AmbientPush JoinAmbient(Transaction ambient)
    {
        var root = _root ?? this;
        AmbientPush? push;
        lock (_gate)
        {
            if (root._ambient.TryGetValue(ambient, out push))
            {
                return push;
            }

            push = new AmbientPush(root, ambient);
            root._ambient.Add(ambient, push);
        }

        try
        {
            // Outside the lock: the transaction's notifications take it, and may come on the thread that ends the scope.
            ambient.EnlistVolatile(push, EnlistmentOptions.None);
        }
        catch
        {
            lock (_gate)
            {
                root.Settle(push, commit: false);
            }

            throw;
        }

        return push;
    }

    /// <summary>
    /// Refuses to add to <paramref name="push"/> once a deadlock aborted it (<see cref="InMemoryTransactionException.Aborted"/>,
    /// as PostgreSQL refuses every statement of an aborted transaction), or once its transaction ended (a push that raced
    /// the end of its own scope: it joined before, and it would be lost now); under the lock.
    /// </summary>
    private static void CheckOpen(AmbientPush? push)
    {
        if (push is { Aborted: true })
        {
            throw InMemoryTransactionException.Aborted();
        }

        if (push is { Settled.IsCompleted: true })
        {
            throw new TransactionException(
                "The ambient transaction ended (completed, rolled back or timed out) while a push in it was under way; nothing of that push was stored. "
                + "Await every push before the TransactionScope ends, or push outside the scope.");
        }
    }

    /// <summary>
    /// What a push of <paramref name="jobs"/> in <paramref name="push"/> (null: none) must wait for: the end of another
    /// transaction that pushed one of their ids or concurrency keys or (with <paramref name="keys"/>) took one of their
    /// unique keys, as a PostgreSQL push waits for the transaction that holds the row or the key's lock. Null: nothing
    /// (under the lock).
    /// </summary>
    private Blocker? UncommittedBlocker(IReadOnlyList<JobPushRecord> jobs, AmbientPush? push, bool keys)
    {
        foreach (var job in jobs)
        {
            if (job is null)
            {
                continue;
            }

            if (_uncommittedIds.TryGetValue(job.Id, out var other) && other != push)
            {
                return new Blocker(other, $"job id {job.Id} of queue '{QueueName}'");
            }

            if (job.ConcurrencyKey is { } concurrencyKey && _uncommittedConcurrencyKeys.TryGetValue(concurrencyKey, out var keyed) && keyed != push)
            {
                return new Blocker(keyed, $"concurrency key '{concurrencyKey}' of queue '{QueueName}'");
            }

            if (keys && job.UniqueKey is { } key && _uncommittedKeys.TryGetValue(key, out var taken) && taken.Push != push)
            {
                return new Blocker(taken.Push, $"unique key '{key}' of queue '{QueueName}'");
            }
        }

        return null;
    }

    /// <summary>Keeps <paramref name="entry"/> aside in <paramref name="push"/> until its transaction ends (under the lock).</summary>
    private void AddUncommitted(AmbientPush push, Entry entry)
    {
        _uncommittedIds.Add(entry.Id, push);
        push.Entries.Add((this, entry));
        if (entry.ConcurrencyKey is { } key)
        {
            _uncommittedConcurrencyKeys[key] = push;
        }
    }

    /// <summary>Takes <paramref name="key"/> for <paramref name="id"/> in <paramref name="push"/> until its transaction ends (under the lock).</summary>
    private void TakeKeyUncommitted(AmbientPush push, string key, JobId id)
    {
        _uncommittedKeys[key] = (push, id);
        push.Keys.Add((this, key, id));
    }

    /// <summary>
    /// Ends <paramref name="push"/> (the root's, under the lock): on commit its keys and jobs are stored as a push outside
    /// any transaction stores them, and the queues' idle workers woken; else they are dropped. Either way, pushes waiting
    /// for its ids or keys go on. A push a deadlock aborted stored nothing, and stores nothing at the commit either (as a
    /// PostgreSQL transaction aborted by an error: its COMMIT rolls back).
    /// </summary>
    private void Settle(AmbientPush push, bool commit)
    {
        _ambient.Remove(push.Transaction);
        Release(push, commit);
    }

    /// <summary>
    /// Stores <paramref name="push"/>'s keys and jobs (<paramref name="commit"/>) or drops them, and lets the pushes that
    /// wait for it go on; nothing when it was already released (under the lock).
    /// </summary>
    private void Release(AmbientPush push, bool commit)
    {
        if (push.Settled.IsCompleted)
        {
            return;
        }

        var now = _time.GetUtcNow();
        foreach (var (view, key, id) in push.Keys)
        {
            view._uncommittedKeys.Remove(key);
            if (commit)
            {
                view.TakeKey(key, id, now);
            }
        }

        foreach (var (view, entry) in push.Entries)
        {
            view._uncommittedIds.Remove(entry.Id);
            if (entry.ConcurrencyKey is { } concurrencyKey)
            {
                view._uncommittedConcurrencyKeys.Remove(concurrencyKey);
            }

            if (commit)
            {
                view.Add(entry);
            }
        }

        if (commit)
        {
            foreach (var view in push.Entries.Select(e => e.View).Distinct())
            {
                view.Signal();
            }
        }

        push.Settle();
    }

    /// <summary>What a push waits for: the transaction that holds it, and what it is (for the deadlock's message).</summary>
    private readonly record struct Blocker(AmbientPush Holder, string What);

    /// <summary>The jobs and unique keys one transaction pushed to one store, and its enlistment in that transaction.</summary>
    private sealed class AmbientPush(InMemoryJobDriver root, Transaction transaction) : IEnlistmentNotification
    {
        private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Transaction Transaction => transaction;

        public List<(InMemoryJobDriver View, Entry Entry)> Entries { get; } = [];

        public List<(InMemoryJobDriver View, string Key, JobId Id)> Keys { get; } = [];

        /// <summary>
        /// The transactions this one's pushes wait for, one per waiting push (the edges of the wait-for graph; under the
        /// root's lock).
        /// </summary>
        public List<AmbientPush> WaitingFor { get; } = [];

        /// <summary>Whether a deadlock aborted the transaction: its pushes were dropped, and it takes no more (under the root's lock).</summary>
        public bool Aborted { get; set; }

        /// <summary>Completes when the transaction ended, whichever way (under the root's lock).</summary>
        public Task Settled => _settled.Task;

        public void Settle() => _settled.TrySetResult();

        public void Prepare(PreparingEnlistment preparingEnlistment) => preparingEnlistment.Prepared();

        public void Commit(Enlistment enlistment) => End(enlistment, commit: true);

        public void Rollback(Enlistment enlistment) => End(enlistment, commit: false);

        /// <summary>Outcome unknown (only a durable resource manager can cause it): nothing is stored, the safe side.</summary>
        public void InDoubt(Enlistment enlistment) => End(enlistment, commit: false);

        private void End(Enlistment enlistment, bool commit)
        {
            lock (root._gate)
            {
                root.Settle(this, commit);
            }

            enlistment.Done();
        }
    }
}
