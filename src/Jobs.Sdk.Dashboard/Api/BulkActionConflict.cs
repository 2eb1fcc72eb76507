namespace Jobs.Sdk.Dashboard;

/// <summary>
/// The 409 of <c>POST api/jobs/{action}</c> that JobAdmin ended part-way, with what the operator needs to go on: the jobs
/// changed (committed, audited by JobAdmin), the jobs left and the sessions that held them, and JobAdmin's message (what
/// happened and what to do), which the page's toast shows as it shows any error body's <c>error</c>.
/// </summary>
internal static class BulkActionConflict
{
    /// <summary>
    /// The answer for <paramref name="exception"/>, or null for an error that is no conflict: jobs other transactions held
    /// locked (<see cref="JobsLockedException"/>: every other job changed), or a single job's statement that ran past the
    /// store's time limit (<see cref="JobBatchTimeoutException"/>, bare when nothing had changed yet, else inside JobAdmin's
    /// "failed after changing N job(s)").
    /// </summary>
    public static ActionConflictResponse? From(Exception exception) => exception switch
    {
        JobsLockedException locked => new(locked.Message, locked.Changed, [.. locked.LockedJobs.Select(id => id.ToString())], locked.Holders),
        JobBatchTimeoutException timedOut => new(timedOut.Message, 0, [], []),
        BulkActionFailedException { InnerException: JobBatchTimeoutException } failed => new(failed.Message, failed.Changed, [], []),
        _ => null,
    };
}
