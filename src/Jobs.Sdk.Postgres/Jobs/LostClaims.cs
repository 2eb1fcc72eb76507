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
/// at most twice the lease: by then the lease rescue owns them, and their tokens are gone). A claim inside the caller's
/// transaction (rate-limited) commits later, with that transaction, and is not covered.
/// </summary>
internal sealed class LostClaims(PostgresQueueContext context)
{
    private readonly string _releaseSql = context.Sql(JobSql.ReleaseLostClaim);
    private readonly ConcurrentDictionary<Guid, Lost> _lost = new();

    /// <summary>Whether any claim waits to be released.</summary>
    public bool IsEmpty => _lost.IsEmpty;

    /// <summary>
    /// The claim of up to <paramref name="maxJobs"/> jobs for <paramref name="workerId"/> drawn from <paramref name="seed"/>
    /// failed without a server error: releases what it may have taken now (within <paramref name="timeout"/>), or remembers
    /// it for <paramref name="keepFor"/> (the lease rescue owns the jobs after that).
    /// </summary>
    public async Task ClaimFailedAsync(string workerId, Guid seed, int maxJobs, TimeSpan keepFor, TimeSpan timeout)
    {
        var lost = new Lost(workerId, maxJobs, DateTimeOffset.UtcNow + keepFor);
        using var cts = new CancellationTokenSource(timeout);
        if (!await TryReleaseAsync(seed, lost, cts.Token).ConfigureAwait(false))
        {
            _lost[seed] = lost;
        }
    }

    /// <summary>Releases the remembered claims (before a claim of the same driver); keeps those it cannot release yet.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        foreach (var (seed, lost) in _lost)
        {
            if (lost.Until < DateTimeOffset.UtcNow || await TryReleaseAsync(seed, lost, cancellationToken).ConfigureAwait(false))
            {
                _lost.TryRemove(seed, out _);
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

    private async Task<bool> TryReleaseAsync(Guid seed, Lost lost, CancellationToken cancellationToken)
    {
        try
        {
            var released = await context.Commands.ExecuteAsync(_releaseSql,
                [Text(context.Queue), Text(lost.WorkerId), Array(Tokens(seed, lost.MaxJobs), NpgsqlDbType.Uuid)],
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

    private sealed record Lost(string WorkerId, int MaxJobs, DateTimeOffset Until);
}
