namespace Jobs.Sdk;

/// <summary>
/// How many jobs one statement of a bulk action of <see cref="JobAdmin"/> changes (each its own transaction), one per
/// action. It starts at <see cref="JobAdmin.BatchSize"/>. A statement the store cancelled for running past its time limit
/// (<see cref="JobBatchTimeoutException"/>: PostgreSQL's <c>statement_timeout</c>) changed nothing, and is tried again with
/// half its jobs; each statement that committed grows the size back by an eighth (at least one job), so a slow stretch of
/// the selection does not keep the rest in small statements, yet a size that times out is not tried again at once.
/// </summary>
internal sealed class BulkStatementSize
{
    /// <summary>The jobs of the next statement (at most; the rest of a batch may be fewer).</summary>
    public int Current { get; private set; } = JobAdmin.BatchSize;

    /// <summary>A statement committed.</summary>
    public void Committed() => Current = Math.Min(JobAdmin.BatchSize, Current + Math.Max(1, Current / 8));

    /// <summary>A statement of <paramref name="jobs"/> jobs ran past the store's time limit: the next has half of them.</summary>
    public void TimedOut(int jobs) => Current = Math.Max(1, jobs / 2);
}
