namespace Jobs.Sdk;

/// <summary>
/// A cluster-wide cap on how fast a queue's jobs start (<c>jobs.AddQueue("emails", q =&gt; q.RateLimit = RateLimit.PerSecond(100))</c>):
/// a token bucket kept in the store, shared by every process serving the queue. Each job start takes one token; tokens
/// come back at <see cref="TokensPerSecond"/>, and at most <see cref="Burst"/> of them accumulate while the queue is idle.
/// </summary>
/// <remarks>
/// Over any period <c>T</c> at most <c>Burst + TokensPerSecond × T</c> jobs of the queue start, however many processes
/// serve it. The default burst is a fifth of a second's worth of tokens (at least one): an idle queue starts that many
/// at once, then keeps to the rate. Set the same limit on every process serving the queue (each claim refills the bucket
/// with the rate of the process that claims).
/// </remarks>
public sealed record RateLimit
{
    /// <summary>The share of a second's tokens the default <see cref="Burst"/> holds.</summary>
    private const double DefaultBurstSeconds = 0.2;

    private readonly int _burst;

    private RateLimit(double tokensPerSecond)
    {
        TokensPerSecond = tokensPerSecond;
        _burst = (int)Math.Max(1, Math.Ceiling(tokensPerSecond * DefaultBurstSeconds));
    }

    /// <summary>How many jobs may start per second, on average, across the cluster.</summary>
    public double TokensPerSecond { get; }

    /// <summary>
    /// The most jobs that may start at once after an idle period (the bucket's capacity). Defaults to a fifth of a
    /// second's worth of tokens, at least 1; set it with <c>RateLimit.PerSecond(100) with { Burst = 50 }</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int Burst
    {
        get => _burst;
        init
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(Burst), value,
                    "A rate limit's burst must be at least 1 (the bucket must hold one token for any job to start).");
            }

            _burst = value;
        }
    }

    /// <summary>At most <paramref name="count"/> job starts per second across the cluster.</summary>
    /// <param name="count">Starts per second; fractions allowed (0.5 = one every two seconds). Must be greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not a finite number greater than 0.</exception>
    public static RateLimit PerSecond(double count) => new(Checked(count, nameof(count), "second"));

    /// <summary>At most <paramref name="count"/> job starts per minute across the cluster.</summary>
    /// <param name="count">Starts per minute; must be greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not a finite number greater than 0.</exception>
    public static RateLimit PerMinute(double count) => new(Checked(count, nameof(count), "minute") / 60);

    /// <summary>How long the bucket takes to earn <paramref name="tokens"/> tokens.</summary>
    /// <remarks>
    /// At most <see cref="MaxTokenWait"/>: a slower rate (fewer starts than one per 49.7 days) would give a wait no timer
    /// takes (<c>Task.Delay</c> threw, and the queue's claim loop ended) or no <see cref="TimeSpan"/> holds. The claim at
    /// the end of a capped wait finds the bucket refilled by the time elapsed, and waits again for the rest.
    /// </remarks>
    internal TimeSpan TimeFor(double tokens)
        => tokens <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(tokens / TokensPerSecond, MaxTokenWait.TotalSeconds));

    /// <summary>The longest a worker waits for its queue's tokens before it claims (and computes the wait) again.</summary>
    internal static readonly TimeSpan MaxTokenWait = TimeSpan.FromHours(1);

    /// <inheritdoc />
    public override string ToString() => $"{TokensPerSecond:0.###}/s (burst {Burst})";

    private static double Checked(double count, string name, string unit)
        => double.IsFinite(count) && count > 0
            ? count
            : throw new ArgumentOutOfRangeException(name, count,
                $"A rate limit must allow more than 0 job starts per {unit} (a finite number such as RateLimit.PerSecond(100)). To stop a queue, pause it with PauseQueueAsync; for no limit, leave RateLimit unset.");
}
