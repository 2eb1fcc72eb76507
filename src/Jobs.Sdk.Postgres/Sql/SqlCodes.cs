using System.Globalization;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The numbers SQL text uses for <see cref="JobState"/> and <see cref="JobOutcomeKind"/>, taken from the C# enums once
/// at type initialization, so the SQL and the enums cannot disagree.
/// </summary>
internal static class SqlCodes
{
    public static readonly string Pending = Code(JobState.Pending);
    public static readonly string Processing = Code(JobState.Processing);
    public static readonly string Retrying = Code(JobState.Retrying);
    public static readonly string Completed = Code(JobState.Completed);
    public static readonly string Failed = Code(JobState.Failed);
    public static readonly string Cancelled = Code(JobState.Cancelled);
    public static readonly string Paused = Code(JobState.Paused);

    public static readonly string OutcomeCompleted = Code(JobOutcomeKind.Completed);
    public static readonly string OutcomeFailed = Code(JobOutcomeKind.Failed);
    public static readonly string OutcomeRetry = Code(JobOutcomeKind.Retry);
    public static readonly string OutcomeReschedule = Code(JobOutcomeKind.Reschedule);
    public static readonly string OutcomeRelease = Code(JobOutcomeKind.Release);
    public static readonly string OutcomeCancelled = Code(JobOutcomeKind.Cancelled);

    /// <summary>
    /// Every <see cref="JobPriority"/>, highest first, as a PostgreSQL array literal (<c>{4,3,2,1,0}</c>): the order in
    /// which <see cref="JobSql.Claim"/> reads priorities. The driver refuses other values at push.
    /// </summary>
    public static readonly string ClaimPriorities =
        "{" + string.Join(",", Enum.GetValues<JobPriority>().Select(p => (int)p).Order().Reverse().Select(p => p.ToString(CultureInfo.InvariantCulture))) + "}";

    private static string Code(JobState state) => ((int)state).ToString(CultureInfo.InvariantCulture);

    private static string Code(JobOutcomeKind kind) => ((int)kind).ToString(CultureInfo.InvariantCulture);
}
