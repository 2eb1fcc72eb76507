namespace Jobs.Sdk.Cli;

/// <summary>
/// What the tool says of a pause an edited schedule left behind (<see cref="SchedulePauseLeftBehind"/>, which the dashboard
/// shares): <c>jobs schedules</c> and <c>jobs doctor</c> name both keys and the command to type.
/// </summary>
internal static class PausesLeftBehind
{
    /// <summary>One line per pair: what the operator sees and what to type.</summary>
    public static string Describe(SchedulePauseLeftBehind left)
        => $"'{left.Paused.EntryKey}' is paused but stale, and job '{left.Paused.JobName}' is scheduled by '{left.Live.EntryKey}', which is not paused "
            + "(an edited schedule gives an entry a new key; the pause stays on the old one). If the job must stay paused: "
            + $"{ScheduleEntryArgument.Command("schedules pause", left.Live)}; then resume the old key to let it go "
            + $"({ScheduleEntryArgument.Command("schedules resume", left.Paused)}).";
}
