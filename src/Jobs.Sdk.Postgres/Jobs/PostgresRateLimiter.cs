using Jobs.Sdk.Drivers;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Rate-limited claims (<see cref="IJobDriver.ClaimRateLimitedAsync"/>): in one transaction, refill and lock the queue's
/// token bucket (<see cref="RateLimitSql.Refill"/>), claim at most the whole tokens it holds (the ordinary claim statement,
/// unchanged), and spend one token per job claimed. Nothing claimed: the transaction rolls back (the refill is recomputed
/// from the same time next time, so nothing is lost). A failure anywhere rolls everything back: no token is spent on a
/// job that was not claimed. On the worker host's <see cref="WorkerConnection"/>, as every claim (a pooled connection when none is reserved).
/// A COMMIT whose reply was lost gives its jobs and their tokens back (<see cref="LostClaims"/>). The transaction waits for
/// the bucket's row (and a globally limited queue's claim lock) at most <see cref="ClaimLockWait.For"/> the lease: a claim
/// that gives up rolls back and found nothing (<see cref="ClaimLockWait"/>).
/// </summary>
internal sealed class PostgresRateLimiter(PostgresQueueContext context, PostgresWorkerCommands worker, WorkerConnection workerConnection)
{
    private readonly string _refillSql = context.Sql(RateLimitSql.Refill);
    private readonly string _spendSql = context.Sql(RateLimitSql.Spend);

    public async Task<RateLimitedClaim> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        var rate = request.RateLimit ?? throw new ArgumentException("A rate-limited claim needs JobClaimRequest.RateLimit.", nameof(request));
        if (request.MaxJobs <= 0)
        {
            return new RateLimitedClaim([], null);
        }

        await context.Gate.EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        await worker.ReleaseLostClaimsAsync(cancellationToken).ConfigureAwait(false);
        var committing = new Committing();
        try
        {
            return await workerConnection.ClaimAsync((connection, ct) => connection is null
                    ? ClaimOnOwnAsync(request, rate, committing, ct)
                    : ClaimOnAsync(connection, request, rate, committing, ct),
                static claim => claim.Jobs.Count > 0, request.LeaseDuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (committing.Jobs is { } jobs && LostClaims.MayHaveCommitted(ex))
        {
            // The COMMIT went out and its reply never came: the server may have taken the jobs and spent their tokens for a
            // worker that never heard of them. Given back here, after the transaction ended (a failed one holds the jobs'
            // and the bucket's rows until then), instead of waiting out a lease that then counts an attempt no handler had.
            await worker.LimitedCommitFailedAsync(request, jobs).ConfigureAwait(false);
            throw;
        }
    }

    private Task<RateLimitedClaim> ClaimOnOwnAsync(JobClaimRequest request, RateLimit rate, Committing committing, CancellationToken cancellationToken)
        => IdleSessionRetry.RunAsync(context.Commands.DataSource, (connection, _) => ClaimOnAsync(connection, request, rate, committing, cancellationToken),
            cancellationToken);

    private async Task<RateLimitedClaim> ClaimOnAsync(NpgsqlConnection connection, JobClaimRequest request, RateLimit rate, Committing committing,
        CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            double available;
            try
            {
                // The transaction's lock_timeout in the refill's round trip: another session holding the bucket's row (or
                // the queue's claim lock, for the claim below) makes the claim give up soon, not wait for its command timeout.
                available = await context.Commands.QueryOnAsync(connection, transaction, ClaimLockWait.Command(request.LeaseDuration), _refillSql,
                    [Text(context.Queue), Double(rate.TokensPerSecond), Double(rate.Burst)], SqlRun.Prepare,
                    static async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? reader.GetDouble(0) : 0, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ClaimLockWait.GaveUp(ex))
            {
                return await GaveUpAsync(transaction, ex, request, ClaimLockWait.BucketRow, cancellationToken).ConfigureAwait(false);
            }

            var granted = TokenBucket.Grant(available, request.MaxJobs);
            IReadOnlyList<ClaimedJob> claimed;
            try
            {
                claimed = granted == 0
                    ? []
                    : await worker.ClaimAsync(request with { MaxJobs = granted }, cancellationToken, connection, transaction).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ClaimLockWait.GaveUp(ex))
            {
                return await GaveUpAsync(transaction, ex, request, ClaimLockWait.ClaimLock, cancellationToken).ConfigureAwait(false); // GlobalConcurrency too
            }

            if (granted > 0 || request.GlobalConcurrency is null)
            {
                worker.LockWait.OnGotLock(); // the bucket's row, and the claim lock of a globally limited queue: a stretch of claims that gave up ends
            }

            if (claimed.Count == 0)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await context.Commands.ExecuteOnAsync(connection, transaction, _spendSql, [Text(context.Queue), Integer(claimed.Count)], SqlRun.Prepare,
                    cancellationToken).ConfigureAwait(false);
                committing.Jobs = claimed;
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                committing.Jobs = null;
            }

            return new RateLimitedClaim(claimed, TokenBucket.DueIn(rate, request.MaxJobs, granted, claimed.Count, available - claimed.Count));
        }
    }

    /// <summary>The claim gave up on a lock (<see cref="ClaimLockWait"/>): rolls back (nothing was taken or spent), and found nothing.</summary>
    private async Task<RateLimitedClaim> GaveUpAsync(NpgsqlTransaction transaction, PostgresException ex, JobClaimRequest request, string lockName,
        CancellationToken cancellationToken)
    {
        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        worker.LockWait.OnGaveUp(ex, request.LeaseDuration, lockName);
        return new RateLimitedClaim([], null);
    }

    /// <summary>The jobs a claim's COMMIT is taking while it runs (null before and after it).</summary>
    private sealed class Committing
    {
        public IReadOnlyList<ClaimedJob>? Jobs { get; set; }
    }
}
