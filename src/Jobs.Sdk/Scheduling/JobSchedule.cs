using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// The recurring jobs of a queue: each entry is a job value, a <see cref="Schedule"/>, a <see cref="ScheduleAccuracy"/> and a
/// key. Configure it with <c>jobs.AddSchedule(s =&gt; ...)</c>; a <see cref="JobScheduler"/> pushes the jobs when they fall due.
/// </summary>
/// <example>
/// <code>
/// jobs.AddSchedule(s =>
/// {
///     s.Add(new RebuildReport("daily"), Schedule.Daily(hour: 3, minute: 0, TimeZoneInfo.FindSystemTimeZoneById("Europe/London")));
///     s.Add(new Ping(), Schedule.Cron("*/5 * * * *"), accuracy: ScheduleAccuracy.All);
///     s.AddCleanup(new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)) }, Schedule.Weekly(DayOfWeek.Sunday));
/// });
/// </code>
/// </example>
public sealed class JobSchedule
{
    private readonly List<JobScheduleEntry> _entries = [];
    private readonly Dictionary<string, JobScheduleEntry> _byKey = new(StringComparer.Ordinal);

    /// <summary>The entries, in the order they were added.</summary>
    public IReadOnlyList<JobScheduleEntry> Entries => _entries;

    /// <summary>
    /// Adds a recurring job. The same <paramref name="job"/> value is pushed at every fire time.
    /// </summary>
    /// <param name="job">The job to push (serialized at each fire).</param>
    /// <param name="schedule">When it fires.</param>
    /// <param name="accuracy">What to do about fire times missed while no scheduler ran. Default: one catch-up run.</param>
    /// <param name="key">
    /// The entry's identity in the store (last fire time, exactly-once records). Default: <c>"{JobName}@{schedule.Description}"</c>,
    /// which changes when the schedule changes: the entry then starts afresh from now, and a pause of the old key does not
    /// carry over. Give a key to keep history and pause across schedule edits (the new schedule continues from the entry's
    /// last fire), or to add the same job twice with the same schedule.
    /// </param>
    /// <exception cref="ArgumentException">The key is empty, already used in this schedule, holds a NUL character or an unpaired
    /// surrogate or is longer than 1,000 bytes of UTF-8 (the store indexes it), or the job cannot be serialized or has a
    /// concurrency or unique key no store can hold.</exception>
    public JobSchedule Add<TJob>(TJob job, Schedule schedule, ScheduleAccuracy accuracy = ScheduleAccuracy.Latest, string? key = null)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(job);
        try
        {
            // The same value is serialized at every fire: fail now, not at 3 a.m.
            JobSerializer.Serialize(job);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ArgumentException($"The scheduled job '{TJob.JobName}' cannot be serialized: {ex.Message}", nameof(job), ex);
        }

        // The keys each fire's push checks: a key no store can hold would stop the entry at its first fire.
        if (TJob.ConcurrencyLimit is not null)
        {
            JobTextLimits.CheckConcurrencyKey(TJob.GetConcurrencyKey(job), $"The concurrency key of scheduled job '{TJob.JobName}' (its [ConcurrencyKey] members)",
                nameof(job));
        }

        if (TJob.Unique && TJob.GetUniqueKey(job) is { } uniqueKey)
        {
            JobTextLimits.CheckUniqueKey(uniqueKey, $"The unique key of scheduled job '{TJob.JobName}'", nameof(job));
        }

        return AddEntry(TJob.JobName, new ScheduledJob<TJob>(job), schedule, accuracy, key);
    }

    /// <summary>
    /// Adds a recurring cleanup of this queue (<see cref="JobQueue.CleanupAsync(string, CleanupOptions, CancellationToken)"/> with <paramref name="options"/>), run as the
    /// built-in job <c>jobs.cleanup:&lt;queue name&gt;</c> by this queue's workers, with a single attempt (never retried).
    /// </summary>
    /// <param name="options">The action per job state.</param>
    /// <param name="schedule">When it runs.</param>
    /// <param name="accuracy">What to do about runs missed while no scheduler ran. Default: one catch-up run.</param>
    /// <param name="key">The entry key; default <c>"jobs.cleanup@{schedule.Description}"</c>.</param>
    /// <exception cref="ArgumentException"><see cref="CleanupOptions.ProcessingJobs"/> is set (it would hit the cleanup job itself), or the key is taken.</exception>
    public JobSchedule AddCleanup(CleanupOptions options, Schedule schedule, ScheduleAccuracy accuracy = ScheduleAccuracy.Latest, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ProcessingJobs.Kind != CleanupActionKind.DoNothing)
        {
            throw new ArgumentException(
                "A scheduled cleanup cannot act on processing jobs: the cleanup job is itself processing while it runs and would remove or " +
                "requeue itself. Leave ProcessingJobs as DoNothing (expired leases are rescued automatically), or call JobQueue.CleanupAsync directly.",
                nameof(options));
        }

        return AddEntry(CleanupJob.JobName, new ScheduledJob<CleanupJob>(new CleanupJob(options), CleanupJob.NameFor, maxAttempts: 1), schedule,
            accuracy, key);
    }

    private JobSchedule AddEntry(string jobName, ScheduledJob job, Schedule schedule, ScheduleAccuracy accuracy, string? key)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!Enum.IsDefined(accuracy))
        {
            throw new ArgumentOutOfRangeException(nameof(accuracy), accuracy, "Use ScheduleAccuracy.Latest or ScheduleAccuracy.All.");
        }

        if (key is not null && string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException("A schedule entry key must not be empty or white space; pass null to derive one from the job name and schedule.", nameof(key));
        }

        if (key is not null)
        {
            // Keys are kept exactly: 'nightly ' would be another entry than 'nightly' for the admin actions and the CLI.
            JobTextLimits.CheckTrimmed(key, "A schedule entry key", nameof(key));
        }

        var entryKey = key ?? $"{jobName}@{schedule.Description}";
        // The store indexes the key with the queue name and fire time: refused now, each fire would fail and be retried forever.
        JobTextLimits.CheckStorable(entryKey, "A schedule entry key", nameof(key));
        JobTextLimits.CheckLength(entryKey, "A schedule entry key", nameof(key));
        if (_byKey.TryGetValue(entryKey, out var existing))
        {
            throw new ArgumentException(
                $"The schedule already has an entry with key '{entryKey}' (job '{existing.JobName}', {existing.Schedule.Description}). " +
                "Each entry needs a unique key: pass key: \"...\" to tell entries of the same job and schedule apart.", nameof(key));
        }

        var entry = new JobScheduleEntry(entryKey, jobName, job, schedule, accuracy);
        _byKey.Add(entryKey, entry);
        _entries.Add(entry);
        return this;
    }
}

/// <summary>One recurring job of a <see cref="JobSchedule"/>.</summary>
public sealed class JobScheduleEntry
{
    internal JobScheduleEntry(string key, string jobName, ScheduledJob job, Schedule schedule, ScheduleAccuracy accuracy)
    {
        Key = key;
        JobName = jobName;
        ScheduledJob = job;
        Schedule = schedule;
        Accuracy = accuracy;
    }

    /// <summary>The entry's identity in the schedule store (unique within a queue).</summary>
    public string Key { get; }

    /// <summary>The job name.</summary>
    public string JobName { get; }

    /// <summary>The job value pushed at each fire.</summary>
    public object Job => ScheduledJob.Value;

    /// <summary>When it fires.</summary>
    public Schedule Schedule { get; }

    /// <summary>What happens to fire times missed while no scheduler ran.</summary>
    public ScheduleAccuracy Accuracy { get; }

    /// <summary>The typed job, pushed through the runtime's push path.</summary>
    internal ScheduledJob ScheduledJob { get; }

    /// <summary>The stored form of one fire's job (tests use it to push a fire by hand).</summary>
    internal JobPushRecord CreateRecord(JobsRuntime runtime, JobOptions options, IReadOnlyDictionary<string, string> headers)
        => ScheduledJob.CreateRecord(runtime, options, headers);
}
