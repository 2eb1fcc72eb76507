using System.Net.Sockets;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Wakes listeners after pushes that committed on the driver's own connection (not in a caller's transaction), with
/// one NOTIFY on a connection of its own instead of one in every pushing transaction.
/// </summary>
/// <remarks>
/// PostgreSQL serializes the commits of transactions that sent a notification (a global lock, held through the WAL
/// flush), so a NOTIFY in every push makes concurrent pushers commit one at a time. Here pushes commit without one, and
/// at most one announcement per queue and process is in flight: whatever is pushed while it is sent goes in the next.
/// The announcement commits with <c>synchronous_commit = off</c>, so it holds that lock only briefly and never waits for
/// the pushers' WAL flushes. A caller's transaction still notifies in the transaction (only its commit may wake workers).
/// <para>
/// A push that finds nothing in flight carries its own announcement instead (<see cref="TryRide"/>): in the same round
/// trip, as a second transaction that the server runs right after the push's durable commit, so listeners hear of the
/// job as soon as it is visible, not one client round trip later. At most one push per queue and process rides at a
/// time; pushes meanwhile are announced as above.
/// </para>
/// </remarks>
internal sealed class PushAnnouncer(NpgsqlDataSource dataSource, string channel, TimeProvider time, ILogger logger, CancellationToken stopping)
{
    private const string NotifySql = "SELECT pg_notify($1, $2)";
    private readonly Lock _lock = new();
    private bool _due;
    private long _dueAtMs = long.MaxValue;
    private bool _sending;
    private bool _riding;

    /// <summary>
    /// When no announcement and no other ride is in flight: the statements that announce <paramref name="jobs"/> as a
    /// transaction of their own (<c>synchronous_commit = off</c>, NOTIFY), to run right after the push's commit in the
    /// same round trip (behind an error barrier); the caller then calls <see cref="RideEnded"/>. Else null: push, then
    /// call <see cref="Pushed"/>.
    /// </summary>
    public IReadOnlyList<NpgsqlBatchCommand>? TryRide(IReadOnlyList<JobPushRecord> jobs)
    {
        lock (_lock)
        {
            if (_sending || _riding)
            {
                return null;
            }

            _riding = true;
        }

        var (due, dueAt) = Summarize(jobs);
        return Commands(due, dueAt);
    }

    /// <summary>The ride of <see cref="TryRide"/> is over; <paramref name="announced"/> false (its NOTIFY failed): announce <paramref name="jobs"/> now.</summary>
    public void RideEnded(IReadOnlyList<JobPushRecord> jobs, bool announced)
    {
        lock (_lock)
        {
            _riding = false;
        }

        if (!announced)
        {
            Pushed(jobs);
        }
    }

    /// <summary>Announces <paramref name="jobs"/>, which just committed: now when one is due, else when the earliest falls due.</summary>
    public void Pushed(IReadOnlyList<JobPushRecord> jobs)
    {
        var (due, dueAt) = Summarize(jobs);
        lock (_lock)
        {
            _due |= due;
            _dueAtMs = Math.Min(_dueAtMs, dueAt);
            if (_sending)
            {
                return;
            }

            _sending = true;
        }

        // The announcing loop is the driver's own work, for every push until it finds nothing new: started with this
        // pusher's execution context, its statements were in the trace (and logging scope) of whichever request pushed first.
        _ = DetachedContext.Start(SendAsync);
    }

    private async Task SendAsync()
    {
        while (true)
        {
            bool due;
            long dueAt;
            lock (_lock)
            {
                (due, dueAt) = (_due, _dueAtMs);
                (_due, _dueAtMs) = (false, long.MaxValue);
                if (!due && dueAt == long.MaxValue)
                {
                    _sending = false;
                    return;
                }
            }

            try
            {
                // Once more on a new connection when the server had ended the pooled one while it idled (IdleSessionRetry):
                // dropped, the announcement left other processes' workers asleep until their next poll.
                await IdleSessionRetry.RunAsync(dataSource, async (connection, _) =>
                {
                    var batch = new NpgsqlBatch(connection);
                    await using var batchDisposal = batch.ConfigureAwait(false);
                    foreach (var command in Commands(due, dueAt))
                    {
                        batch.BatchCommands.Add(command);
                    }

                    return await batch.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                lock (_lock)
                {
                    _sending = false;
                }

                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException or SocketException or IOException)
            {
                // Listeners still find the jobs at their next poll.
                PostgresLog.AnnounceFailed(logger, ex);
            }
        }
    }

    private (bool Due, long DueAtMs) Summarize(IReadOnlyList<JobPushRecord> jobs)
    {
        var now = time.GetUtcNow();
        var due = false;
        var dueAt = long.MaxValue;
        foreach (var job in jobs)
        {
            if (job.RunAt is not { } runAt || runAt <= now)
            {
                due = true;
            }
            else
            {
                dueAt = Math.Min(dueAt, runAt.ToUnixTimeMilliseconds());
            }
        }

        return (due, dueAt);
    }

    /// <summary>One announcement transaction: the asynchronous commit setting, then a NOTIFY per kind of news.</summary>
    private List<NpgsqlBatchCommand> Commands(bool due, long dueAt)
    {
        // PostgreSQL gives a notifying transaction an xid, so its commit would wait for a WAL flush (behind every
        // pusher's) while holding the cluster-wide notify lock. A notification is never durable anyway (the pushes are):
        // commit without waiting.
        List<NpgsqlBatchCommand> commands = [new NpgsqlBatchCommand(JobSql.AsynchronousCommit)];
        if (dueAt != long.MaxValue)
        {
            commands.Add(Notify(new JobNotification(JobNotificationKind.DueAt, DueAtUnixMs: dueAt)));
        }

        if (due)
        {
            commands.Add(Notify(new JobNotification(JobNotificationKind.Due)));
        }

        return commands;
    }

    private NpgsqlBatchCommand Notify(JobNotification notification)
        => PostgresCommands.Command(NotifySql, SqlParameters.Text(channel), SqlParameters.Text(notification.Format()));
}
