namespace Jobs.Sdk.Dashboard;

/// <summary>Options of the jobs dashboard (see <c>AddJobsDashboard</c>).</summary>
public sealed class JobsDashboardOptions
{
    /// <summary>
    /// The authorization policy a user must satisfy to act (retry, cancel, delete, run now, pause and resume queues and
    /// schedules). Without it (the default) the dashboard is read-only for everyone.
    /// </summary>
    public string? OperatorPolicy { get; set; }

    /// <summary>
    /// How often the one shared poll behind the live updates runs while at least one browser is connected (default 2 s).
    /// However many browsers are open, each app instance reads the store once per interval.
    /// </summary>
    public TimeSpan LiveInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the throughput chart's data (jobs finished per minute over the last hour) is refreshed (default 30 s).</summary>
    public TimeSpan ThroughputInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Jobs per page in the jobs list, schedule entries and queues per page, and the most queues the overview lists (the
    /// busiest; default 50, at most 500).
    /// </summary>
    public int PageSize { get; set; } = 50;

    /// <summary>The title shown in the page header and the browser tab (default "Jobs").</summary>
    public string Title { get; set; } = "Jobs";
}
