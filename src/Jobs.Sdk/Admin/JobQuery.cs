namespace Jobs.Sdk;

/// <summary>The order of a <see cref="JobAdmin.ListJobsAsync"/> page.</summary>
public enum JobOrder
{
    /// <summary>Most recently pushed first (job ids are time-ordered, so this is id descending).</summary>
    Newest = 0,

    /// <summary>Earliest run time first (the next job to become due first), then id.</summary>
    RunAt = 1,
}

/// <summary>
/// Filters, order and paging of <see cref="JobAdmin.ListJobsAsync"/> (and the job set of <see cref="JobSelection.Matching"/>).
/// Every filter is optional; filters combine with AND, values inside one list filter with OR.
/// </summary>
/// <example>
/// <code>
/// var page = await admin.ListJobsAsync(new JobQuery { Queue = "emails", States = [JobState.Failed], Limit = 100 });
/// var next = await admin.ListJobsAsync(new JobQuery { Queue = "emails", States = [JobState.Failed], Limit = 100, Cursor = page.NextCursor });
/// </code>
/// </example>
public sealed record JobQuery
{
    /// <summary>The largest <see cref="Limit"/> accepted.</summary>
    public const int MaxLimit = 500;

    /// <summary>Only jobs of this queue (exact name). <see langword="null"/>: every queue of the store.</summary>
    public string? Queue { get; init; }

    /// <summary>Only jobs in one of these states. <see langword="null"/> or empty: any state.</summary>
    public IReadOnlyList<JobState>? States { get; init; }

    /// <summary>Only jobs with one of these names (exact). <see langword="null"/> or empty: any name.</summary>
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>
    /// A JSON value the payload must contain, with PostgreSQL <c>jsonb @&gt;</c> semantics: <c>{"to":"a@b.c"}</c> matches
    /// every payload whose <c>to</c> property equals <c>"a@b.c"</c>. Must be valid JSON.
    /// </summary>
    public string? PayloadContains { get; init; }

    /// <summary>
    /// Text the payload must contain (case-insensitive substring, no wildcards): in its JSON as PostgreSQL prints it
    /// (<c>{"to": "a@b.c"}</c>), or in one of its strings as the value reads — <c>a"b</c>, <c>C:	emp</c> and <c>café</c>
    /// find the strings that hold them, as do their escaped forms <c>a"b</c> and <c>C:\temp</c>.
    /// </summary>
    public string? PayloadText { get; init; }

    /// <summary>Text the last error must contain (case-insensitive substring).</summary>
    public string? ErrorText { get; init; }

    /// <summary>Only jobs pushed at or after this instant.</summary>
    public DateTimeOffset? QueuedAfter { get; init; }

    /// <summary>Only jobs pushed before this instant.</summary>
    public DateTimeOffset? QueuedBefore { get; init; }

    /// <summary>Only jobs due (or run) at or after this instant.</summary>
    public DateTimeOffset? RunAfter { get; init; }

    /// <summary>Only jobs due (or run) before this instant.</summary>
    public DateTimeOffset? RunBefore { get; init; }

    /// <summary>The order. Default <see cref="JobOrder.Newest"/>.</summary>
    public JobOrder Order { get; init; } = JobOrder.Newest;

    /// <summary>Page size, 1 to <see cref="MaxLimit"/>. Default 50. Ignored by <see cref="JobSelection.Matching"/> (bulk actions act on every match).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>
    /// The <see cref="JobPage.NextCursor"/> of the previous page (opaque), or <see langword="null"/> for the first page. A cursor
    /// belongs to the <see cref="Order"/> it was made with. Ignored by <see cref="JobSelection.Matching"/>.
    /// </summary>
    public string? Cursor { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when a value is out of range (limit, order, cursor, JSON) or a text holds what
    /// no store can (a NUL character, an unpaired surrogate: no job can match it).
    /// </summary>
    public void Validate()
    {
        JobTextLimits.CheckStorable(Queue, "JobQuery.Queue", nameof(Queue));
        JobTextLimits.CheckStorable(PayloadText, "JobQuery.PayloadText", nameof(PayloadText));
        JobTextLimits.CheckStorable(ErrorText, "JobQuery.ErrorText", nameof(ErrorText));
        foreach (var name in Names ?? [])
        {
            JobTextLimits.CheckStorable(name, "A name of JobQuery.Names", nameof(Names));
        }

        if (Limit is < 1 or > MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(Limit), Limit, $"JobQuery.Limit must be between 1 and {MaxLimit}.");
        }

        if (!Enum.IsDefined(Order))
        {
            throw new ArgumentOutOfRangeException(nameof(Order), Order, "JobQuery.Order must be JobOrder.Newest or JobOrder.RunAt.");
        }

        if (States is not null)
        {
            foreach (var state in States)
            {
                if (!Enum.IsDefined(state))
                {
                    throw new ArgumentOutOfRangeException(nameof(States), state, "JobQuery.States contains an unknown job state.");
                }
            }
        }

        if (PayloadContains is not null)
        {
            using var contains = JobQueryMatcher.ParseJson(PayloadContains);
            JobQueryMatcher.CheckStorable(contains.RootElement);
        }

        if (Cursor is not null)
        {
            JobCursor.Parse(Cursor, Order);
        }
    }

    /// <summary>A short description of the filters (used as the audit target of bulk actions by query).</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Queue is not null)
        {
            parts.Add($"queue={Queue}");
        }

        if (States is { Count: > 0 })
        {
            parts.Add($"state={string.Join('|', States)}");
        }

        if (Names is { Count: > 0 })
        {
            parts.Add($"name={string.Join('|', Names)}");
        }

        if (PayloadContains is not null)
        {
            parts.Add($"payload@>{PayloadContains}");
        }

        if (PayloadText is not null)
        {
            parts.Add($"payload~{PayloadText}");
        }

        if (ErrorText is not null)
        {
            parts.Add($"error~{ErrorText}");
        }

        if (QueuedAfter is { } qa)
        {
            parts.Add($"queued>={qa:O}");
        }

        if (QueuedBefore is { } qb)
        {
            parts.Add($"queued<{qb:O}");
        }

        if (RunAfter is { } ra)
        {
            parts.Add($"run>={ra:O}");
        }

        if (RunBefore is { } rb)
        {
            parts.Add($"run<{rb:O}");
        }

        return parts.Count == 0 ? "all jobs" : string.Join(' ', parts);
    }
}
