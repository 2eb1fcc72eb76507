using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The plan tests' operator actions on one job id, by the names their operation lists use (<c>admin-cancel</c>,
/// <c>admin-delete</c>, <c>admin-retry</c>, <c>admin-run-now</c>, <c>admin-priority</c>).
/// </summary>
internal static class AdminIdActions
{
    /// <summary>Whether <paramref name="operation"/> names one of these actions.</summary>
    public static bool Names(string operation) => operation is "admin-cancel" or "admin-delete" or "admin-retry" or "admin-run-now" or "admin-priority";

    /// <summary>Runs action <paramref name="operation"/> (see <see cref="Names"/>) on job <paramref name="id"/>.</summary>
    public static Task<int> RunAsync(JobAdmin admin, string operation, JobId id) => operation switch
    {
        "admin-cancel" => admin.CancelAsync(JobSelection.Ids(id)),
        "admin-delete" => admin.DeleteAsync(JobSelection.Ids(id)),
        "admin-retry" => admin.RetryAsync(JobSelection.Ids(id)),
        "admin-run-now" => admin.RunNowAsync(JobSelection.Ids(id)),
        "admin-priority" => admin.SetPriorityAsync(JobSelection.Ids(id), JobPriority.Higher),
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "not an action on a job id"),
    };
}
