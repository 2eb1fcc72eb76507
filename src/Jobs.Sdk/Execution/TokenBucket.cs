namespace Jobs.Sdk;

/// <summary>
/// The token-bucket arithmetic of <see cref="RateLimit"/>, shared by the drivers (the PostgreSQL driver's SQL computes the
/// same refill on the database clock): refill by elapsed time × rate up to the burst, grant whole tokens, and how long
/// until enough tokens are due for the rest of a request.
/// </summary>
internal static class TokenBucket
{
    /// <summary>Slack for the floating-point sum of refills (a bucket holding 2.9999999999 grants 3).</summary>
    public const double Epsilon = 1e-9;

    /// <summary>The tokens a bucket holding <paramref name="tokens"/> holds after <paramref name="elapsed"/>.</summary>
    public static double Refill(double tokens, TimeSpan elapsed, RateLimit rate)
        => Math.Min(rate.Burst, tokens + Math.Max(0, elapsed.TotalSeconds) * rate.TokensPerSecond);

    /// <summary>The whole tokens a claim of <paramref name="wanted"/> jobs may take from <paramref name="available"/>.</summary>
    public static int Grant(double available, int wanted) => (int)Math.Clamp(Math.Floor(available + Epsilon), 0, Math.Max(wanted, 0));

    /// <summary>
    /// <see cref="Drivers.RateLimitedClaim.TokensDueIn"/>: null when the claim got all it wanted or the queue ran out of jobs
    /// before the tokens did; else the time until the bucket (holding <paramref name="left"/>) has tokens for the rest of
    /// the request, at most a burst's worth.
    /// </summary>
    public static TimeSpan? DueIn(RateLimit rate, int wanted, int granted, int claimed, double left)
        => claimed >= wanted || claimed < granted ? null : rate.TimeFor(Math.Min(wanted - claimed, rate.Burst) - left);
}
