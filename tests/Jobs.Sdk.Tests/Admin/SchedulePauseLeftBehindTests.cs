namespace Jobs.Sdk.Tests.Admin;

/// <summary>
/// Which pauses an edited schedule left behind: a paused stale entry, and an unpaused live entry of the same queue and job
/// (what the <c>jobs</c> CLI and the dashboard both show, from this one rule).
/// </summary>
public sealed class SchedulePauseLeftBehindTests
{
    [Fact]
    public void A_paused_stale_entry_pairs_with_each_unpaused_live_entry_of_its_queue_and_job_only()
    {
        var old = Entry("digest@03:00", paused: true, stale: true);
        var edited = Entry("digest@04:00");
        ScheduleInfo[] entries =
        [
            old, edited,
            Entry("digest@05:00", paused: true),                 // live but paused: nothing fires there
            Entry("digest@06:00", stale: true),                  // stale: no scheduler fires it
            Entry("digest@04:00", queue: "other"),               // another queue's entry of the same job
            Entry("report@04:00", job: "report"),                // another job
        ];

        var left = SchedulePauseLeftBehind.Find(entries);

        var pair = Assert.Single(left);
        Assert.Same(old, pair.Paused);
        Assert.Same(edited, pair.Live);
    }

    [Fact]
    public void Nothing_is_left_behind_when_the_paused_entry_is_live_or_its_job_has_no_other_entry()
    {
        Assert.Empty(SchedulePauseLeftBehind.Find([Entry("digest@03:00", paused: true), Entry("digest@04:00")]));
        Assert.Empty(SchedulePauseLeftBehind.Find([Entry("digest@03:00", paused: true, stale: true), Entry("report@04:00", job: "report")]));
    }

    private static ScheduleInfo Entry(string key, bool paused = false, bool stale = false, string queue = "default", string job = "digest") => new()
    {
        EntryKey = key, QueueName = queue, JobName = job, Schedule = key[(key.IndexOf('@', StringComparison.Ordinal) + 1)..],
        IsPaused = paused, IsStale = stale,
    };
}
