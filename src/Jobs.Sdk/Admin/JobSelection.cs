namespace Jobs.Sdk;

/// <summary>The jobs a bulk action of <see cref="JobAdmin"/> applies to: an id list, or every job matching a query.</summary>
public sealed class JobSelection
{
    private JobSelection(IReadOnlyList<JobId>? ids, JobQuery? query)
    {
        JobIds = ids;
        Query = query;
    }

    /// <summary>The ids, when the selection is an id list.</summary>
    public IReadOnlyList<JobId>? JobIds { get; }

    /// <summary>The query, when the selection is every matching job (its limit and cursor are ignored).</summary>
    public JobQuery? Query { get; }

    /// <summary>These jobs (duplicates are ignored).</summary>
    public static JobSelection Ids(params JobId[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return new JobSelection(ids.Distinct().ToArray(), null);
    }

    /// <summary>These jobs (duplicates are ignored).</summary>
    public static JobSelection Ids(IEnumerable<JobId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return new JobSelection(ids.Distinct().ToArray(), null);
    }

    /// <summary>
    /// Every job matching <paramref name="query"/> that was queued when the action started, on the store's clock (processed
    /// in batches, by id): jobs pushed while the action runs are left alone, so it ends on a queue pushed to faster than
    /// it works (the query's own <see cref="JobQuery.QueuedBefore"/> still applies when earlier). With states in the query,
    /// the action changes only jobs still in one of them when it reaches them (a job that started running, was retried or
    /// cancelled since it was found is left alone).
    /// </summary>
    public static JobSelection Matching(JobQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return new JobSelection(null, query);
    }

    /// <summary>A short description (the audit target).</summary>
    public override string ToString()
    {
        if (Query is not null)
        {
            return "query: " + Query;
        }

        var ids = JobIds!;
        return ids.Count switch
        {
            0 => "no jobs",
            1 => "job " + ids[0],
            <= 3 => "jobs " + string.Join(", ", ids),
            _ => $"{ids.Count} jobs ({ids[0]}, {ids[1]}, ...)",
        };
    }
}
