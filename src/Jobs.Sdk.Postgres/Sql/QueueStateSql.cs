namespace Jobs.Sdk.Postgres;

/// <summary>A queue's pause flag as workers read it (the claim statements read it too; <c>{s}.queues</c> is the admin table).</summary>
internal static class QueueStateSql
{
    /// <summary>Whether queue $1 is paused.</summary>
    public const string IsPaused = "SELECT EXISTS (SELECT 1 FROM {s}.queues WHERE name = $1 AND paused)";
}
