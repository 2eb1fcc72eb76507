namespace Jobs.Sdk.InMemory;

/// <content>A stored job and the waiting order.</content>
public sealed partial class InMemoryJobDriver
{
    private sealed class Entry
    {
        public required JobId Id { get; init; }
        public required string Name { get; init; }
        public required byte[] Payload { get; init; }
        public required JobPriority Priority { get; set; }
        public required int MaxAttempts { get; set; }
        public IReadOnlyDictionary<string, string>? Headers { get; init; }
        public required DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset RunAt { get; set; }
        public DateTimeOffset LastModified { get; set; }
        public JobState State { get; set; }
        public JobState? PausedFrom { get; set; }
        public int Attempts { get; set; }
        public string? WorkerId { get; set; }
        public DateTimeOffset? LeaseExpiresAt { get; set; }
        public Guid? LeaseToken { get; set; }
        public DateTimeOffset? StartedAt { get; set; }
        public DateTimeOffset? FinishedAt { get; set; }
        public string? LastError { get; set; }
        public bool CancelRequested { get; set; }

        /// <summary>An operator deleted the job while it ran: removed when its attempt ends (it holds its slots until then).</summary>
        public bool DeleteRequested { get; set; }
        public List<JobAttemptError> Errors { get; } = [];
        public string? UniqueKey { get; init; }
        public TimeSpan UniqueFor { get; init; }
        public bool RemoveWhenReleased { get; set; }
        public string? ConcurrencyKey { get; init; }
        public int ConcurrencyLimit { get; init; }

        /// <summary>The place in its concurrency key's line (push order; a finished job put back goes to the back).</summary>
        public long KeySeq { get; set; }

        public bool IsUnfinished => State is JobState.Pending or JobState.Processing or JobState.Retrying or JobState.Paused;

        /// <summary>Appends an attempt's error, keeping the latest <see cref="MaxErrors"/>.</summary>
        public void AddError(int attempt, DateTimeOffset at, string error, string? stackTrace = null)
        {
            Errors.Add(new JobAttemptError(attempt, at, error) { StackTrace = stackTrace });
            if (Errors.Count > MaxErrors)
            {
                Errors.RemoveRange(0, Errors.Count - MaxErrors);
            }
        }
    }

    /// <summary>
    /// <paramref name="time"/> as the PostgreSQL driver stores a <c>timestamptz</c>: in UTC, to the microsecond (Npgsql
    /// drops the ticks below it), so a run time read back equals there what it equals here. <see cref="DateTimeOffset.MaxValue"/>
    /// stays whole: Npgsql writes it as <c>infinity</c> and reads that back as MaxValue.
    /// </summary>
    private static DateTimeOffset Stored(DateTimeOffset time) => time.UtcTicks == DateTimeOffset.MaxValue.UtcTicks
        ? DateTimeOffset.MaxValue
        : new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    /// <summary>How many attempt errors a job keeps (<see cref="JobInfo.Errors"/>).</summary>
    private const int MaxErrors = 20;

    /// <summary>
    /// Priority (highest first), then run time, then id: PostgreSQL's claim order. Ids made by <see cref="JobId.New"/>
    /// sort in the order they were made, so jobs of one batch (one run time) go in push order, and a job given back or
    /// resumed keeps its place among them, as it does there.
    /// </summary>
    private sealed class WaitingOrder : IComparer<Entry>
    {
        public static readonly WaitingOrder Instance = new();

        public int Compare(Entry? x, Entry? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var c = y!.Priority.CompareTo(x!.Priority);
            if (c != 0)
            {
                return c;
            }

            c = x.RunAt.CompareTo(y.RunAt);
            return c != 0 ? c : x.Id.Value.CompareTo(y.Id.Value);
        }
    }
}
