namespace Jobs.Sdk.Postgres;

/// <summary>
/// Rate limits (<see cref="RateLimit"/>): one token bucket per queue in <c>{s}.queue_rate_limits</c>
/// (<see cref="RateLimitMigration"/>). A rate-limited claim runs <see cref="Refill"/>, the claim asking for at most the
/// whole tokens it returned, and <see cref="Spend"/> for the jobs it claimed, in one transaction: the refill's row lock
/// makes the claimers of a queue take turns, so no token is granted twice.
/// </summary>
internal static class RateLimitSql
{
    /// <summary>
    /// Refills (and locks) the bucket of queue $1 at $2 tokens per second, capped at $3 (the burst), on the database
    /// clock, and returns the tokens it holds. A new bucket starts full. The refill time never goes back: a claimer that
    /// read the clock before it got the lock is credited no time twice.
    /// </summary>
    public const string Refill = """
        INSERT INTO {s}.queue_rate_limits AS b (queue_name, tokens, refilled_at) VALUES ($1, $3, clock_timestamp())
        ON CONFLICT (queue_name) DO UPDATE
            SET tokens = least($3, b.tokens + greatest(extract(epoch FROM clock_timestamp() - b.refilled_at)::double precision, 0) * $2),
                refilled_at = greatest(clock_timestamp(), b.refilled_at)
        RETURNING b.tokens
        """;

    /// <summary>Takes $2 tokens (the jobs just claimed) from the bucket of queue $1, locked by <see cref="Refill"/>.</summary>
    public const string Spend = "UPDATE {s}.queue_rate_limits SET tokens = tokens - $2 WHERE queue_name = $1";

    /// <summary>
    /// <see cref="JobSql.ReleaseLostClaim"/> of a rate-limited claim whose COMMIT's reply was lost: gives back the jobs,
    /// and to the bucket of queue $1 the token each job given back cost (<see cref="Spend"/>). Only the rows the claim
    /// really took are given back, so a claim that did not commit refunds nothing; a bucket above its burst is cut back
    /// to it by the next <see cref="Refill"/>.
    /// </summary>
    public static readonly string ReleaseLostClaim = $$"""
        WITH released AS (
            {{JobSql.ReleaseLostClaim}}
            RETURNING 1
        )
        UPDATE {s}.queue_rate_limits SET tokens = tokens + (SELECT count(*) FROM released)
        WHERE queue_name = $1 AND EXISTS (SELECT 1 FROM released)
        """;
}
