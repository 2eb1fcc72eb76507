namespace Jobs.Sdk.Cli;

/// <summary>
/// A job name that no stored job, schedule entry or live worker has is most likely a typo (<c>--name send-emial</c>): the
/// jobs meant are left as they were while the command says "0 job(s)". Warns on stderr, naming the job names live workers
/// handle and schedules push; not an error (a filter may match nothing), as for <see cref="UnknownQueue"/>.
/// </summary>
internal static class UnknownJobName
{
    /// <summary>Warns about each of <paramref name="names"/> nothing has; <paramref name="consequence"/> says what the command did.</summary>
    public static async Task WarnAsync(CliContext ctx, IReadOnlyCollection<string> names, string consequence)
    {
        var workers = await ctx.Admin.GetWorkersAsync(ctx.Cancellation).ConfigureAwait(false);
        var schedules = await ctx.Admin.GetSchedulesAsync(ctx.Cancellation).ConfigureAwait(false);
        var known = workers.SelectMany(w => w.JobNames).Concat(schedules.Select(s => s.JobName)).ToHashSet(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var name in names.Where(n => !known.Contains(n)))
        {
            // One job of that name in any queue and state is enough; a search the store stopped for time proves nothing.
            var page = await ctx.Admin.ListJobsAsync(new JobQuery { Names = [name], Limit = 1 }, ctx.Cancellation).ConfigureAwait(false);
            if (page.Items.Count == 0 && page.NextCursor is null)
            {
                unknown.Add(name);
            }
        }

        if (unknown.Count == 0)
        {
            return;
        }

        var quoted = string.Join(", ", unknown.Select(n => $"'{n}'"));
        await Console.Error.WriteLineAsync($"warning: no stored job, schedule entry or live worker has job name {quoted} (a typo?); {consequence} " +
            (known.Count == 0 ? "No live worker or schedule names a job." : "Names live workers handle or schedules push: " + string.Join(", ", known.Order(StringComparer.Ordinal)) + ".")).ConfigureAwait(false);
    }
}
