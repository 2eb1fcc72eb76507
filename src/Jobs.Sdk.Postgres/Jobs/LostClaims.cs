using System.Buffers.Binary;
using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Claims whose reply was lost: the statement may have committed (the connection broke on the way back, a timeout, the
/// worker's stop cancelled it as its rows arrived) and taken jobs the worker never heard of. Without this, such jobs
/// waited out their lease and a rescue counted an attempt whose handler never started (with one attempt allowed, a job
/// that never ran ended failed). A claim's lease tokens derive from the uuid the worker drew for it
/// (<see cref="JobSql.Claim"/>), so the worker can name every row it may have taken and give them back
/// (<see cref="JobSql.ReleaseLostClaim"/>): at once, and again before each later claim until a release gets through (for
/// at most twice the lease: by then the lease rescue owns them, and their tokens are gone). A rate-limited claim runs in a
/// transaction (<see cref="PostgresRateLimiter"/>): a reply lost before its COMMIT rolls it back, one lost after it took
/// the jobs the worker read and the rate-limit tokens spent on them, and both are given back
/// (<see cref="RateLimitSql.ReleaseLostClaim"/>): otherwise the jobs would also wait for the rate to earn their tokens again.
/// </summary>
internal sealed class LostClaims(PostgresQueueContext context)
{
    private readonly string _releaseSql = context.Sql(JobSql.ReleaseLostClaim);
    private readonly string _releaseRefundingSql = context.Sql(RateLimitSql.ReleaseLostClaim);
    private readonly ConcurrentDictionary<Guid, Lost> _lost = new();

    /// <summary>Whether any claim waits to be released.</summary>
    public bool IsEmpty => _lost.IsEmpty;

    /// <summary>
    /// Whether a claim that failed with <paramref name="error"/> may have committed with its reply lost: the connection
    /// failed, timed out or was cancelled, not the statement (a server error rolled it back).
    /// </summary>
    public static bool MayHaveCommitted(Exception error)
        => error is (NpgsqlException and not PostgresException) or OperationCanceledException or TimeoutException or IOException;

    /// <summary>
    /// The claim of up to <paramref name="maxJobs"/> jobs for <paramref name="workerId"/> drawn from <paramref name="seed"/>
    /// failed without a server error: releases what it may have taken now (within <paramref name="timeout"/>), or remembers
    /// it for <paramref name="keepFor"/> (the lease rescue owns the jobs after that).
    /// </summary>
    public Task ClaimFailedAsync(string workerId, Guid seed, int maxJobs, TimeSpan keepFor, TimeSpan timeout)
        => LostAsync(seed, new Lost(workerId, Tokens(seed, maxJobs), RefundTokens: false, DateTimeOffset.UtcNow + keepFor), timeout);

    /// <summary>
    /// The COMMIT of a rate-limited claim that read <paramref name="claimed"/> failed without a server error: as
    /// <see cref="ClaimFailedAsync"/>, and the release gives back the rate-limit token each released job cost.
    /// </summary>
    public Task CommitFailedAsync(string workerId, IReadOnlyList<Jobs.Sdk.Drivers.ClaimedJob> claimed, TimeSpan keepFor, TimeSpan timeout)
    {
        var tokens = new Guid[claimed.Count];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = claimed[i].LeaseToken;
        }

        return LostAsync(Guid.NewGuid(), new Lost(workerId, tokens, RefundTokens: true, DateTimeOffset.UtcNow + keepFor), timeout);
    }

    private async Task LostAsync(Guid key, Lost lost, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        if (!await TryReleaseAsync(lost, cts.Token).ConfigureAwait(false))
        {
            _lost[key] = lost;
        }
    }

    /// <summary>Releases the remembered claims (before a claim of the same driver); keeps those it cannot release yet.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        foreach (var (key, lost) in _lost)
        {
            if (lost.Until < DateTimeOffset.UtcNow || await TryReleaseAsync(lost, cancellationToken).ConfigureAwait(false))
            {
                _lost.TryRemove(key, out _);
            }
        }
    }

    /// <summary>The lease tokens claim <paramref name="seed"/> gives its rows, places 1 to <paramref name="count"/> (as <see cref="JobSql.Claim"/> derives them).</summary>
    public static Guid[] Tokens(Guid seed, int count)
    {
        var bytes = seed.ToByteArray(bigEndian: true);
        var tokens = new Guid[count];
        for (var place = 1; place <= count; place++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12, 4), place);
            tokens[place - 1] = new Guid(bytes, bigEndian: true);
        }

        return tokens;
    }

    private async Task<bool> TryReleaseAsync(Lost lost, CancellationToken cancellationToken)
    {
        try
        {
            var released = await context.Commands.ExecuteAsync(lost.RefundTokens ? _releaseRefundingSql : _releaseSql,
                [Text(context.Queue), Text(lost.WorkerId), Array(lost.Tokens, NpgsqlDbType.Uuid)],
                SqlRun.Arrays, cancellationToken).ConfigureAwait(false);
            if (released > 0)
            {
                context.Notifier.JobsDue();
            }

            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return false;
        }
    }

    /// <param name="WorkerId">The worker the claim was for.</param>
    /// <param name="Tokens">The lease tokens the claim may have given its rows.</param>
    /// <param name="RefundTokens">Whether each released job gives back the rate-limit token its claim spent.</param>
    /// <param name="Until">When the lease rescue owns the jobs (the release is given up).</param>
    private sealed record Lost(string WorkerId, Guid[] Tokens, bool RefundTokens, DateTimeOffset Until);
}
