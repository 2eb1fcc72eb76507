namespace Jobs.Sdk.Cli;

/// <summary>
/// A pause belongs to an entry key, and the default key holds the schedule's text: a deploy that edits a paused entry's
/// schedule publishes a new key that is not paused, and the job fires again while the pause sits on the stale old key.
/// Nothing can tell such an edit from a second entry of the same job, so the tool does not move the pause; it names
/// each paused stale entry whose job a live entry of its queue schedules unpaused (<c>jobs schedules</c>, <c>jobs doctor</c>).
/// </summary>
internal static class PausesLeftBehind
{
    public static IReadOnlyList<(ScheduleInfo Paused, ScheduleInfo Live)> Find(IReadOnlyList<ScheduleInfo> entries)
        => [.. from paused in entries
               where paused.IsPaused && paused.IsStale
               from live in entries
               where !live.IsPaused && !live.IsStale && live.QueueName == paused.QueueName && live.JobName == paused.JobName
               select (paused, live)];

    /// <summary>One line per pair: what the operator sees and what to type.</summary>
    public static string Describe(ScheduleInfo paused, ScheduleInfo live)
        => $"'{paused.EntryKey}' is paused but stale, and job '{paused.JobName}' is scheduled by '{live.EntryKey}', which is not paused "
            + "(an edited schedule gives an entry a new key; the pause stays on the old one). If the job must stay paused: "
            + $"jobs schedules pause \"{live.EntryKey}\"; then resume the old key to let it go.";
}
