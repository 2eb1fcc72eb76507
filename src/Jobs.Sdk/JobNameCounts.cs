namespace Jobs.Sdk;

/// <summary>Number of stored jobs per state for one job name in one queue (see <see cref="JobQueue.GetCountsByNameAsync"/>).</summary>
/// <param name="Name">The job name.</param>
/// <param name="Counts">Its jobs per state.</param>
public sealed record JobNameCounts(string Name, JobCounts Counts);

/// <summary>Due jobs of one name that have waited longer than a threshold (no running worker may handle the name).</summary>
/// <param name="Name">The job name.</param>
/// <param name="Count">How many such jobs wait.</param>
/// <param name="OldestRunAt">When the oldest of them became due.</param>
public sealed record WaitingJobName(string Name, long Count, DateTimeOffset OldestRunAt);
