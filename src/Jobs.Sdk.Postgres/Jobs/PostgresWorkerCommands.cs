using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>What workers do to the table: claim due jobs, record outcomes, renew leases, rescue expired leases.</summary>
/// <remarks>Claims and lease renewals run on the worker host's <see cref="WorkerConnection"/> (a pooled connection when none is reserved).</remarks>
internal sealed class PostgresWorkerCommands(PostgresQueueContext context, RetentionPolicy retention, WorkerConnection workerConnection, ClaimLockWait lockWait,
    HeldLeaseRows heldRows)
{
    private readonly string _claimSql = context.Sql(JobSql.Claim);
    private readonly string _claimWithinLimitSql = context.Sql(JobSql.ClaimWithinLimit);
    private readonly string _lockKey = context.Sql("{s}:") + context.Queue;
    private readonly string _completeSql = context.Sql(JobSql.Complete);
    private readonly string _completeRemovingSql = context.Sql(JobSql.CompleteRemoving);
    private readonly string _renewSql = context.Sql(JobSql.RenewLeases);
    private readonly string _renewSkippingHeldSql = context.Sql(JobSql.RenewLeasesSkippingHeld);
    private readonly string _rescueSql = context.Sql(JobSql.RescueExpired);
    private readonly bool _removeCompleted = retention.CompletedJobs == Retain.No;
    private readonly bool _removeFailed = retention.FailedJobs == Retain.No;
    private readonly bool _removeCancelled = retention.CancelledJobs == Retain.No;
    private readonly LostClaims _lostClaims = new(context);

    /// <summary>The limited claims' wait for their lock (the rate-limited claim gives up on its bucket's row through it too).</summary>
    public ClaimLockWait LockWait => lockWait;

    /// <summary>Whether retention deletes cancelled jobs instead of keeping them.</summary>
    public bool RemoveCancelled => _removeCancelled;

    /// <summary>Claims due jobs; on the caller's <paramref name="connection"/> and <paramref name="transaction"/> when given (a rate-limited claim).</summary>
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken,
        NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(request.WorkerId, nameof(request));
        if (request.MaxJobs <= 0)
        {
            return [];
        }

        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        if (transaction is null)
        {
            // (A rate-limited claim releases them before its transaction: its refill holds the bucket's row, which the
            // release of its own lost claims updates.)
            await ReleaseLostClaimsAsync(cancellationToken).ConfigureAwait(false);
        }

        var seed = Guid.NewGuid();
        NpgsqlParameter[] parameters =
            [Text(context.Queue), Integer(request.MaxJobs), Text(request.WorkerId), Double(request.LeaseDuration.TotalMilliseconds), Names(request.JobNames),
                Integer(request.StartingNow), Uuid(seed)]; // the claim's lease tokens derive from it (JobSql.Claim)
        var limited = request.GlobalConcurrency.HasValue;
        if (limited)
        {
            parameters = [.. parameters, Integer(request.GlobalConcurrency!.Value)];
        }

        List<(long Place, ClaimedJob Job)>? claimed;
        try
        {
            claimed = connection is not null
                ? await ClaimRowsAsync(request, connection, transaction, parameters, limited, cancellationToken).ConfigureAwait(false)
                : await workerConnection.ClaimAsync<List<(long Place, ClaimedJob Job)>?>(limited
                        ? (own, ct) => ClaimWithinLimitAsync(request, own, parameters, ct)
                        : (own, ct) => ClaimRowsAsync(request, own, null, parameters, limited: false, ct), static rows => rows is not null,
                    request.LeaseDuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (transaction is null && LostClaims.MayHaveCommitted(ex))
        {
            // The connection failed, timed out or was cancelled, not the statement: the claim may have committed with its
            // reply lost. Give back what it may have taken. (A row the worker cannot read is left to the lease rescue, which
            // counts its attempts: given back, it would come first in every claim again.)
            await _lostClaims.ClaimFailedAsync(request.WorkerId, seed, request.MaxJobs, request.LeaseDuration * 2, ReleaseTimeout(request))
                .ConfigureAwait(false);
            throw;
        }

        if (claimed is null)
        {
            return [];
        }

        // RETURNING has no order: hand jobs to the worker in claim order (the first StartingNow are the ones started).
        claimed.Sort(static (a, b) => a.Place.CompareTo(b.Place));
        var jobs = new ClaimedJob[claimed.Count];
        for (var i = 0; i < jobs.Length; i++)
        {
            jobs[i] = claimed[i].Job;
        }

        return jobs;
    }

    /// <summary>Gives back the jobs of the claims whose reply was lost and whose release has not got through yet.</summary>
    public Task ReleaseLostClaimsAsync(CancellationToken cancellationToken)
        => _lostClaims.IsEmpty ? Task.CompletedTask : _lostClaims.ReleaseAsync(cancellationToken);

    /// <summary>
    /// The COMMIT of a rate-limited claim (<see cref="PostgresRateLimiter"/>) that read <paramref name="claimed"/> failed
    /// without a server error: it may have committed with its reply lost. Gives the jobs back uncounted, with the tokens they cost.
    /// </summary>
    public Task LimitedCommitFailedAsync(JobClaimRequest request, IReadOnlyList<ClaimedJob> claimed)
        => _lostClaims.CommitFailedAsync(request.WorkerId, claimed, request.LeaseDuration * 2, ReleaseTimeout(request));

    /// <summary>How long a lost claim's first release may take before it is left to the next claims.</summary>
    private static TimeSpan ReleaseTimeout(JobClaimRequest request)
        => TimeSpan.FromTicks(Math.Min(request.LeaseDuration.Ticks / 4, TimeSpan.FromSeconds(5).Ticks));

    /// <summary>
    /// A globally limited claim in a transaction of its own: one that gave up on the queue's claim lock (held by another
    /// session longer than <see cref="ClaimLockWait.For"/> the lease) found nothing, and gave the turn on the queue's
    /// connection back to the renewals (<see cref="ClaimLockWait"/>).
    /// </summary>
    private async Task<List<(long Place, ClaimedJob Job)>?> ClaimWithinLimitAsync(JobClaimRequest request, NpgsqlConnection? connection,
        NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        try
        {
            var rows = await ClaimRowsAsync(request, connection, null, parameters, limited: true, cancellationToken).ConfigureAwait(false);
            lockWait.OnGotLock();
            return rows;
        }
        catch (PostgresException ex) when (ClaimLockWait.GaveUp(ex))
        {
            lockWait.OnGaveUp(ex, request.LeaseDuration, ClaimLockWait.ClaimLock);
            return null;
        }
    }

    private Task<List<(long Place, ClaimedJob Job)>?> ClaimRowsAsync(JobClaimRequest request, NpgsqlConnection? connection, NpgsqlTransaction? transaction,
        NpgsqlParameter[] parameters, bool limited, CancellationToken cancellationToken)
        => context.Commands.QueryOnAfterAsync(connection, transaction,
            // A limited claim gives up on the queue's claim lock after a bounded wait (ClaimLockWait), in the same round trip.
            limited ? [ClaimLockWait.Command(request.LeaseDuration), PostgresCommands.Command(JobSql.LockQueueClaims, Text(_lockKey))] : null,
            limited ? _claimWithinLimitSql : _claimSql, parameters,
            // Its generic plan is built at the session's first claim and kept until the next ANALYZE: built on a young queue's
            // table it found the claimed rows (and a key's jobs ahead) by sequential scans, on every claim once the table had
            // grown. Without sequential scans it reads the indexes (and the rows by ctid) at any size.
            SqlRun.Prepare | SqlRun.WorkerCommit | SqlRun.GenericPlan | SqlRun.NoSeqScan,
            async (reader, ct) =>
            {
                List<(long Place, ClaimedJob Job)>? rows = null;
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    (rows ??= new(request.MaxJobs)).Add((reader.GetInt64(10), JobRows.ReadClaimed(reader)));
                }

                return rows;
            }, cancellationToken);

    /// <summary>
    /// Records <paramref name="outcomes"/>. The ones that only remove a finished job (retention keeps none of its kind)
    /// go first through <see cref="JobSql.CompleteRemoving"/>, a <c>DELETE</c> that takes no row lock before it deletes;
    /// the rest, and the whole batch again if that statement left any removal undone (a unique key's hold, a claim lost,
    /// a row changed since its snapshot), through <see cref="JobSql.Complete"/>, which locks each row before it decides.
    /// </summary>
    public async Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return;
        }

        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var removals = 0;
        for (var i = 0; i < outcomes.Count; i++)
        {
            removals += Removes(outcomes[i]) ? 1 : 0;
        }

        var keyedFinished = false;
        var rest = outcomes;
        if (removals > 0)
        {
            var (deleted, keyed) = await RemoveAsync(workerId, outcomes, removals, cancellationToken).ConfigureAwait(false);
            keyedFinished = keyed > 0;
            if (deleted == removals)
            {
                rest = removals == outcomes.Count ? [] : [.. outcomes.Where(o => !Removes(o))];
            }
        }

        if (rest.Count > 0)
        {
            keyedFinished |= await WriteOutcomesAsync(workerId, rest, cancellationToken).ConfigureAwait(false);
        }

        // Keyed jobs left the processing state: the next job of their keys may be claimable now. This process freed the
        // slots, so it claims them (other nodes find them by their own outcomes, or poll).
        if (keyedFinished)
        {
            context.Notifier.KeyedJobsFinished();
        }

        // Requeued jobs: wake this process's workers when they fall due (other nodes poll, or get the NOTIFY when due now).
        foreach (var o in outcomes)
        {
            if (o.Kind is JobOutcomeKind.Release || (o.Kind is JobOutcomeKind.Retry or JobOutcomeKind.Reschedule && o.Delay <= TimeSpan.Zero))
            {
                context.Notifier.JobsDue();
            }
            else if (o.Kind is JobOutcomeKind.Retry or JobOutcomeKind.Reschedule)
            {
                context.Notifier.JobDueAfter(o.Delay);
            }
        }
    }

    /// <summary>Whether <paramref name="outcome"/> ends its job and retention keeps no job that ends that way.</summary>
    private bool Removes(JobOutcome outcome) => outcome.Kind switch
    {
        JobOutcomeKind.Completed => _removeCompleted,
        JobOutcomeKind.Failed => _removeFailed,
        JobOutcomeKind.Cancelled => _removeCancelled,
        _ => false,
    };

    /// <summary>Deletes the <paramref name="count"/> jobs that <paramref name="outcomes"/> remove; returns (deleted, keyed among them).</summary>
    private Task<(long Deleted, long Keyed)> RemoveAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, int count, CancellationToken cancellationToken)
    {
        var ids = new Guid[count];
        var tokens = new Guid[count];
        var k = 0;
        for (var i = 0; i < outcomes.Count; i++)
        {
            var o = outcomes[i];
            if (Removes(o))
            {
                ids[k] = o.Id.Value;
                tokens[k++] = o.LeaseToken;
            }
        }

        // Prepared, as the claim, and planned without sequential scans for the same reason (a plan built on a young queue's
        // table looked each job up by a sequential scan).
        return context.Commands.QueryAsync(_completeRemovingSql,
            [Text(context.Queue), Text(workerId), Array(ids, NpgsqlDbType.Uuid), Array(tokens, NpgsqlDbType.Uuid)],
            SqlRun.Prepare | SqlRun.WorkerCommit | SqlRun.Arrays | SqlRun.NoSeqScan,
            static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? (reader.GetInt64(0), reader.GetInt64(1)) : (0L, 0L),
            cancellationToken);
    }

    /// <summary>Writes <paramref name="outcomes"/> through <see cref="JobSql.Complete"/>; returns whether a keyed job left processing.</summary>
    private Task<bool> WriteOutcomesAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken)
    {
        var n = outcomes.Count;
        var ids = new Guid[n];
        var attempts = new int[n];
        var kinds = new short[n];
        var delays = new double[n];
        var nextAttempts = new int[n];
        var errors = new string?[n];
        var stacks = new string?[n];
        var remove = new bool[n];
        var tokens = new Guid[n];
        var runAts = new DateTimeOffset?[n];
        for (var i = 0; i < n; i++)
        {
            var o = outcomes[i];
            ids[i] = o.Id.Value;
            runAts[i] = o.Kind is JobOutcomeKind.Reschedule ? o.RunAt?.ToUniversalTime() : null; // timestamptz takes UTC offsets only
            attempts[i] = o.Attempt;
            kinds[i] = (short)o.Kind;
            delays[i] = o.Delay > TimeSpan.Zero ? o.Delay.TotalMilliseconds : 0;
            nextAttempts[i] = o.NextAttempt;
            errors[i] = JobErrorText.Sanitize(o.Error);
            stacks[i] = o.Kind is JobOutcomeKind.Completed ? null : JobErrorText.Sanitize(o.StackTrace);
            tokens[i] = o.LeaseToken;
            remove[i] = Removes(o);
        }

        // Planned without sequential scans, as the removing outcomes above.
        return context.Commands.QueryAsync(_completeSql,
            [
                Text(context.Queue), Text(workerId), Array(ids, NpgsqlDbType.Uuid), Array(attempts, NpgsqlDbType.Integer),
                Array(kinds, NpgsqlDbType.Smallint), Array(delays, NpgsqlDbType.Double), Array(nextAttempts, NpgsqlDbType.Integer),
                Array(errors, NpgsqlDbType.Text), Array(remove, NpgsqlDbType.Boolean), Text(context.Channel),
                Boolean(_removeCancelled),
                Array(tokens, NpgsqlDbType.Uuid), Array(stacks, NpgsqlDbType.Text), Array(runAts, NpgsqlDbType.TimestampTz),
            ],
            SqlRun.Prepare | SqlRun.WorkerCommit | SqlRun.Arrays | SqlRun.NoSeqScan,
            static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) && reader.GetInt64(2) > 0, cancellationToken);
    }

    public async Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobLease> leases, TimeSpan leaseDuration,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(leases);
        if (leases.Count == 0)
        {
            return LeaseRenewalResult.None;
        }

        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var ids = new Guid[leases.Count];
        var tokens = new Guid[leases.Count];
        var running = new double?[leases.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = leases[i].Id.Value;
            tokens[i] = leases[i].LeaseToken;
            running[i] = leases[i].RunningFor?.TotalMilliseconds;
        }

        // New parameters for each statement: the one that gave up on a held row keeps its own.
        NpgsqlParameter[] Parameters() =>
        [
            Text(context.Queue), Array(ids, NpgsqlDbType.Uuid), Text(workerId), Double(leaseDuration.TotalMilliseconds), Array(tokens, NpgsqlDbType.Uuid),
            Array(running, NpgsqlDbType.Double),
        ];
        // Prepared, and planned without sequential scans, as the outcomes are: its session's generic plan, built on a young
        // queue's table, found the leases' rows by sequential scans, at every renewal once the table had grown. On the worker's
        // own connection, in the batch's implicit transaction (no caller's transaction goes on after it). A row another session
        // holds is waited for at most ClaimLockWait.For the lease (the setting in the same round trip); then the renewal renews
        // the rows that are free and leaves the held ones for the next renewal (HeldLeaseRows), on the same turn.
        heldRows.Forget(leases);
        var result = await workerConnection.RunAsync(async (connection, token) =>
        {
            try
            {
                return await RenewAsync(connection, _renewSql, Parameters(), leaseDuration, token).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ClaimLockWait.GaveUp(ex))
            {
                return await RenewAsync(connection, _renewSkippingHeldSql, Parameters(), leaseDuration, token).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
        heldRows.Renewed(leases, result.NotRenewed, result.Lost);
        return result;
    }

    /// <summary>Runs renewal statement <paramref name="sql"/> behind a bounded lock wait and reads its lost, cancelled and held claims.</summary>
    private Task<LeaseRenewalResult> RenewAsync(NpgsqlConnection? connection, string sql, NpgsqlParameter[] parameters, TimeSpan leaseDuration,
        CancellationToken cancellationToken)
        => context.Commands.QueryOnAsync(connection, null, ClaimLockWait.Command(leaseDuration), sql, parameters,
            SqlRun.Prepare | SqlRun.Arrays | SqlRun.NoSeqScan,
            async (reader, ct) =>
            {
                List<JobLease>? lost = null, cancel = null, held = null;
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var lease = new JobLease(new JobId(reader.GetGuid(0)), reader.GetGuid(1));
                    if (reader.GetBoolean(2))
                    {
                        (lost ??= []).Add(lease);
                    }
                    else if (reader.GetBoolean(3))
                    {
                        (held ??= []).Add(lease);
                        heldRows.Held(lease, reader.IsDBNull(4) ? null : reader.GetInt32(4), leaseDuration);
                    }
                    else
                    {
                        (cancel ??= []).Add(lease);
                    }
                }

                return lost is null && cancel is null && held is null
                    ? LeaseRenewalResult.None
                    : new LeaseRenewalResult(lost ?? [], cancel ?? []) { NotRenewed = held ?? [] };
            }, cancellationToken);

    /// <summary>
    /// Rescues the queue's jobs whose lease expired and counts the started attempts it decided in the outcome metrics
    /// (<see cref="RescueTelemetry"/>, those of <paramref name="driver"/>'s runtime, with <paramref name="metricTags"/>); returns how
    /// many jobs it rescued.
    /// </summary>
    public async Task<int> RescueExpiredLeasesAsync(IJobDriver driver, IReadOnlyList<KeyValuePair<string, object?>> metricTags,
        CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var queue = context.Queue;
        // Planned without sequential scans: a plan its session built on a young queue's table read the whole table at every pass.
        var pass = await context.Commands.QueryAsync(_rescueSql,
            [Text(queue), Boolean(_removeFailed), Boolean(_removeCancelled), Text(context.Channel)],
            SqlRun.Prepare | SqlRun.Maintenance | SqlRun.NoSeqScan, static async (reader, ct) =>
            {
                await reader.ReadAsync(ct).ConfigureAwait(false);
                var count = (int)reader.GetInt64(0);
                return reader.IsDBNull(2)
                    ? new RescuePass(count, [], [], [])
                    : new RescuePass(count, reader.GetFieldValue<string[]>(2), reader.GetFieldValue<int[]>(3), reader.GetFieldValue<long[]>(4));
            }, cancellationToken).ConfigureAwait(false);
        if (pass.Rescued > 0)
        {
            context.Notifier.JobsDue();
        }

        for (var i = 0; i < pass.Names.Length; i++)
        {
            RescueTelemetry.Count(driver, queue, pass.Names[i], (JobState)pass.States[i], pass.Counts[i], metricTags);
        }

        return pass.Rescued;
    }

    /// <summary>What a rescue pass did: the jobs rescued, and per name and next state the started attempts it decided.</summary>
    private readonly record struct RescuePass(int Rescued, string[] Names, int[] States, long[] Counts);
}
