using System.Data.Common;
using System.Diagnostics;
using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Stores unique jobs (<see cref="UniqueJobSql"/>): one job, or a batch in one transaction (all or nothing, as every push).
/// A keyed unique job takes its concurrency key's lock before anything else of its push, as a batch takes all of its
/// concurrency keys' locks first, so a single push and a batch never wait for each other in opposite orders.
/// <para>
/// A batch then takes the locks of its unique keys' buckets (<see cref="UniqueJobSql.LockBatch"/>) in one order and pushes
/// its jobs in the order given: two batches sharing a key share its bucket, so neither waits for the other's uncommitted
/// insert, and they cannot deadlock. Buckets, not one lock per key: locks held to the commit take one entry each of the
/// server's shared lock table (6,400 on a default server, for every session), and a batch of more keys failed with
/// "out of shared memory".
/// </para>
/// </summary>
internal sealed class PostgresUniquePusher(PostgresQueueContext context, RetentionPolicy retention, PostgresPushOutcome outcome)
{
    /// <summary>The jobs of a batch pushed per round trip (each job's statements as a single push sends them).</summary>
    private const int PushesPerRoundTrip = 100;

    private readonly string _releaseUniqueSql = context.Sql(UniqueJobSql.Release);
    private readonly string _pushUniqueSql = context.Sql(UniqueJobSql.Push);
    private readonly string _pushUniqueLockedSql = context.Sql(UniqueJobSql.PushLocked);
    private readonly string _lockBatchSql = context.Sql(UniqueJobSql.LockBatch);
    private readonly string _holdersSql = context.Sql(UniqueJobSql.Holders);
    private readonly string _lockKeySql = context.Sql(KeyAdmissionSql.LockOne);

    /// <summary>The transaction-local setting in front of a unique push in a transaction of the driver's own (<see cref="SqlRun.CustomPlan"/>).</summary>
    private static readonly string CustomPlan = JobSql.TransactionSettings(asynchronousCommit: false, genericPlan: false, maintenance: false, customPlan: true)!;

    /// <summary>
    /// Stores <paramref name="job"/> unless its unique key is held: one round trip (release of an expired holder, then the
    /// insert) in the common case; asked again when the holder committed after the insert's snapshot was taken.
    /// </summary>
    public async Task<JobPushResult> PushAsync(JobPushRecord job, NpgsqlTransaction? tx, CancellationToken cancellationToken)
    {
        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var ambient = tx is null && context.Commands.JoinsAmbientTransaction;
        var result = tx is not null
            ? await PushOnAsync(tx.Connection!, tx, job, context.Channel, cancellationToken).ConfigureAwait(false)
            : ambient
                ? await context.Commands.OnAmbientTransactionAsync(c => PushOnAsync(c, null, job, context.Channel, cancellationToken), cancellationToken)
                    .ConfigureAwait(false)
                : await outcome.RunAsync([job], c => PushOnAsync(c, null, job, null, cancellationToken), () => new JobPushResult(job.Id, true),
                    cancellationToken).ConfigureAwait(false);
        if (result.Inserted)
        {
            // As for other pushes: in a caller's (or the ambient) transaction the statement notified; else announce after the commit.
            context.Notifier.JobsPushed([job], announce: tx is null && !ambient);
        }

        return result;
    }

    /// <summary>
    /// Stores the unique jobs of <paramref name="jobs"/> whose keys are free, in one transaction (the caller's, or one of
    /// its own): a batch that throws stored none of them. The concurrency keys' locks are taken first, in key order, then
    /// the unique keys' bucket locks; the jobs are then pushed in the order given.
    /// </summary>
    public async Task<IReadOnlyList<JobPushResult>> PushManyAsync(IReadOnlyList<JobPushRecord> jobs, NpgsqlTransaction? tx, CancellationToken cancellationToken)
    {
        if (jobs.Count == 0)
        {
            return [];
        }

        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var ambient = tx is null && context.Commands.JoinsAmbientTransaction;
        var results = tx is not null
            ? await PushManyOnAsync(tx.Connection!, tx, jobs, context.Channel, own: false, cancellationToken).ConfigureAwait(false)
            : ambient
            ? await context.Commands.OnAmbientTransactionAsync(c => PushManyOnAsync(c, null, jobs, context.Channel, own: false, cancellationToken), cancellationToken)
                .ConfigureAwait(false)
            : await outcome.RunAsync<JobPushResult[]?>(jobs, async c =>
            {
                var own = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (own.ConfigureAwait(false))
                {
                    var pushed = await PushManyOnAsync(c, own, jobs, null, own: true, cancellationToken).ConfigureAwait(false);
                    await own.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return pushed;
                }
            }, static () => null, cancellationToken).ConfigureAwait(false)
            ?? await SettledAsync(jobs, cancellationToken).ConfigureAwait(false);

        var inserted = new List<JobPushRecord>(jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
        {
            if (results[i].Inserted)
            {
                inserted.Add(jobs[i]);
            }
        }

        if (inserted.Count > 0)
        {
            context.Notifier.JobsPushed(inserted, announce: tx is null && !ambient);
        }

        return results;
    }

    /// <summary>
    /// Pushes <paramref name="jobs"/> in <paramref name="tx"/> (<paramref name="own"/>: a transaction of the driver's own).
    /// Each job has a statement of its own (one row), so a statement that ran past the session's statement_timeout has no
    /// smaller statements to be tried in, as a plain batch's (<see cref="PostgresJobPusher"/>): the push, rolled back whole
    /// in its own transaction and aborting the caller's, throws <see cref="PushStatementTimeout"/>'s exception for it.
    /// </summary>
    private async Task<JobPushResult[]> PushManyOnAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyList<JobPushRecord> jobs, string? channel,
        bool own, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await PushManyInOrderOnAsync(connection, tx, jobs, channel, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled && !cancellationToken.IsCancellationRequested)
        {
            // The transaction is aborted (the driver's own too, until its rollback): the setting is read on another connection.
            var timeout = await PushStatementTimeout.ReadAsync(connection, usable: false, context.Commands.DataSource, Stopwatch.GetElapsedTime(started))
                .ConfigureAwait(false);
            if (timeout is null)
            {
                throw;
            }

            throw own ? PushStatementTimeout.EvenOneRow(jobs.Count, timeout, e) : PushStatementTimeout.InCallersTransaction(jobs.Count, 1, timeout, e);
        }
    }

    private async Task<JobPushResult[]> PushManyInOrderOnAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyList<JobPushRecord> jobs, string? channel,
        CancellationToken cancellationToken)
    {
        var concurrencyKeys = new string?[jobs.Count];
        var uniqueKeys = new string?[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            concurrencyKeys[i] = jobs[i].ConcurrencyKey;
            uniqueKeys[i] = jobs[i].UniqueKey;
        }

        await context.Commands.ExecuteOnAsync(connection, tx, _lockBatchSql,
            [Text(context.Queue), Array(concurrencyKeys, NpgsqlDbType.Text), Array(uniqueKeys, NpgsqlDbType.Text)], SqlRun.Prepare | SqlRun.Arrays,
            cancellationToken).ConfigureAwait(false);

        // In the order given: a key's line is in push order, and a batch's push order is its list's.
        var results = new JobPushResult[jobs.Count];
        for (var start = 0; start < jobs.Count; start += PushesPerRoundTrip)
        {
            var pushed = await PushGroupOnAsync(connection, tx, jobs, start, Math.Min(PushesPerRoundTrip, jobs.Count - start), channel, cancellationToken)
                .ConfigureAwait(false);
            for (var g = 0; g < pushed.Length; g++)
            {
                // No row: the key's holder committed after that statement's snapshot was taken; asked again on its own.
                results[start + g] = pushed[g] ?? await PushOnAsync(connection, tx, jobs[start + g], channel, cancellationToken, locked: true).ConfigureAwait(false);
            }
        }

        return results;
    }

    /// <summary>
    /// The pushes of the <paramref name="count"/> jobs of a batch from <paramref name="start"/>, in that order, in one
    /// round trip: each job's statements as <see cref="PushOnAsync"/> sends them. A job whose push returned no row (its
    /// key's holder committed after the statement's snapshot was taken) gets null.
    /// </summary>
    private async Task<JobPushResult?[]> PushGroupOnAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyList<JobPushRecord> jobs,
        int start, int count, string? channel, CancellationToken cancellationToken)
    {
        var batch = new NpgsqlBatch(connection, tx);
        await using var batchDisposal = batch.ConfigureAwait(false);
        var customPlan = AddCustomPlan(batch, channel);
        for (var i = start; i < start + count; i++)
        {
            AddPush(batch, jobs[i], channel, locked: true);
        }

        AddCustomPlanEnd(batch, channel, customPlan);

        var results = new JobPushResult?[count];
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        for (var g = 0; g < results.Length; g++)
        {
            while (reader.FieldCount < 2 && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
                // Past the job's lock and release statements.
            }

            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                results[g] = new JobPushResult(new JobId(reader.GetGuid(0)), reader.GetBoolean(1));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>
    /// One unique push's statements in a round trip, asked again while the key's holder is one this statement's snapshot
    /// cannot see; <paramref name="locked"/>: the job's concurrency key is locked already (in a batch: <see cref="UniqueJobSql.LockBatch"/>).
    /// </summary>
    private async Task<JobPushResult> PushOnAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, JobPushRecord job, string? channel,
        CancellationToken cancellationToken, bool locked = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            var batch = new NpgsqlBatch(connection, tx);
            await using var batchDisposal = batch.ConfigureAwait(false);
            var customPlan = AddCustomPlan(batch, channel);
            AddPush(batch, job, channel, locked);
            AddCustomPlanEnd(batch, channel, customPlan);
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            while (reader.FieldCount < 2 && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
                // Past the lock's and the release statement's results.
            }

            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return new JobPushResult(new JobId(reader.GetGuid(0)), reader.GetBoolean(1));
            }

            if (attempt == 5)
            {
                throw new InvalidOperationException(
                    $"The unique key of job '{job.Name}' is held by a job this transaction cannot see (pushed by a concurrent transaction). " +
                    "Push unique jobs in READ COMMITTED transactions, or outside a transaction.");
            }
        }
    }

    /// <summary>
    /// On a connection that prepares statements on its own (Npgsql's <c>Max Auto Prepare</c>), the statement in front of
    /// unique pushes that plans them for each execution (<see cref="SqlRun.CustomPlan"/>): their release looks the key's
    /// holder up, and a generic plan built while the table's statistics said it was small read the whole table at every
    /// push. In a transaction of the driver's own (<paramref name="channel"/> null: it sends no NOTIFY) the setting lasts to
    /// its end; in a caller's (or the ambient) one the caller's value is saved, for <see cref="AddCustomPlanEnd"/>. Returns
    /// whether it added the statement.
    /// </summary>
    private bool AddCustomPlan(NpgsqlBatch batch, string? channel)
    {
        if (!context.Commands.AutoPrepares(batch.Connection))
        {
            return false;
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand(channel is null ? CustomPlan : JobSql.ForceCustomPlanSavingCallers));
        return true;
    }

    /// <summary>In a caller's transaction, sets its <c>plan_cache_mode</c> back after the pushes (see <see cref="AddCustomPlan"/>).</summary>
    private static void AddCustomPlanEnd(NpgsqlBatch batch, string? channel, bool customPlan)
    {
        if (customPlan && channel is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(JobSql.RestoreCallersPlanCacheMode));
        }
    }

    /// <summary>
    /// The statements of one unique push: its concurrency key's lock (when keyed and not <paramref name="locked"/> already,
    /// as a batch's first statement locks all its keys), the release of its key's expired holder, then the insert
    /// (<see cref="UniqueJobSql.Push"/>, or <see cref="UniqueJobSql.PushLocked"/>; the only one with two columns or more).
    /// </summary>
    private void AddPush(NpgsqlBatch batch, JobPushRecord job, string? channel, bool locked)
    {
        if (job.ConcurrencyKey is not null && !locked)
        {
            batch.BatchCommands.Add(PostgresCommands.Command(_lockKeySql, Text(context.Queue), Text(job.ConcurrencyKey)));
        }

        batch.BatchCommands.Add(PostgresCommands.Command(_releaseUniqueSql, Text(context.Queue), Text(job.UniqueKey),
            Boolean(retention.CompletedJobs == Retain.No), Boolean(retention.FailedJobs == Retain.No), Boolean(retention.CancelledJobs == Retain.No)));
        batch.BatchCommands.Add(PostgresCommands.Command(locked ? _pushUniqueLockedSql : _pushUniqueSql,
            [.. JobRows.Push(job, [Text(context.Queue)], Text(channel)), Text(job.UniqueKey), Double(job.UniqueFor.TotalMilliseconds), .. JobRows.Keys(job)]));
    }

    /// <summary>
    /// The results of a batch whose answer was lost and which turned out stored: a job found by its id was inserted; any
    /// other was refused for the job now holding its key (or, when that one has finished and been deleted since, is
    /// reported by its own id, not inserted).
    /// </summary>
    private async Task<JobPushResult[]> SettledAsync(IReadOnlyList<JobPushRecord> jobs, CancellationToken cancellationToken)
    {
        var ids = jobs.Select(j => j.Id.Value).ToArray();
        var keys = jobs.Select(j => j.UniqueKey).ToArray();
        var (stored, holders) = await context.Commands.QueryAsync(_holdersSql,
            [Text(context.Queue), Array(ids, NpgsqlDbType.Uuid), Array(keys, NpgsqlDbType.Text)], SqlRun.None, static async (reader, ct) =>
            {
                var stored = new HashSet<Guid>();
                var holders = new Dictionary<string, Guid>(StringComparer.Ordinal);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    if (reader.GetBoolean(2))
                    {
                        stored.Add(reader.GetGuid(0));
                    }

                    if (!reader.IsDBNull(1))
                    {
                        holders[reader.GetString(1)] = reader.GetGuid(0);
                    }
                }

                return (stored, holders);
            }, cancellationToken).ConfigureAwait(false);
        return [.. jobs.Select(j => stored.Contains(j.Id.Value)
            ? new JobPushResult(j.Id, true)
            : new JobPushResult(j.UniqueKey is not null && holders.TryGetValue(j.UniqueKey, out var holder) ? new JobId(holder) : j.Id, false))];
    }
}
