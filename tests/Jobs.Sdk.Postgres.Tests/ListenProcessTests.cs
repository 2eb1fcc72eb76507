using System.Diagnostics;
using System.Text.Json;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Does a worker process configured as an app's LISTEN for every queue it serves? The test worker runs as a real process
/// (a data source of CreateDataSource or UsePostgres(connectionString); its own queue and a second one of AddQueue; plain or
/// in a Generic Host) with a 30 s poll interval; this process pushes to each queue once the worker is idle there. Only a
/// notification can make the job run within 10 s of its push: the worker's next poll is about 30 s away.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ListenProcessTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task A_push_from_another_process_wakes_an_idle_worker_process_on_each_of_its_queues(bool hosted, bool connectionString)
    {
        await using var pusher = await TestQueue.CreateAsync(fixture, _ => { }, driver: o => o.PollInterval = Poll);
        var table = await ProcessTests.CreateRunsTableAsync(pusher.DataSource);
        await pusher.DataSource.ExecAsync($"CREATE TABLE jobs_test.{table}_spans (job_id uuid PRIMARY KEY, queue text NOT NULL, run uuid NOT NULL UNIQUE, started_at timestamptz NOT NULL, ended_at timestamptz)");
        var first = pusher.Queue.QueueName;
        var second = first + "_second";
        using var worker = await WorkerProcess.StartAsync(fixture.ConnectionString, first, table, concurrency: 2, leaseSeconds: 30, workMs: 0, secondQueue: second,
            hostShutdownTimeout: hosted ? TimeSpan.FromSeconds(10) : null, pollInterval: Poll, driverOwnsDataSource: connectionString);

        var n = 0;
        foreach (var queue in new[] { first, second })
        {
            // The first job runs by the worker's first claim, by the claim after it started listening, or at the latest by a poll.
            var warm = await pusher.Queue.PushAsync(new RecordJob(n++), new JobOptions { Queue = queue });
            await TestExtensions.EventuallyAsync(async () => await RanAsync(pusher, table, warm), seconds: 60,
                what: $"the first job of queue '{queue}' ran");

            // Now the queue is idle (its claim found nothing more): the next job pushed here wakes it by its NOTIFY or not at all within 10 s.
            var id = await pusher.Queue.PushAsync(new RecordJob(n++), new JobOptions { Queue = queue });
            var heard = await Record.ExceptionAsync(() => TestExtensions.EventuallyAsync(async () => await RanAsync(pusher, table, id), seconds: 10,
                what: "the job ran"));
            Assert.True(heard is null,
                $"A job pushed by another process to queue '{queue}' (channel '{PostgresNotifier.ChannelName("jobs_test", queue)}') of an idle worker process " +
                $"(hosted: {hosted}, UsePostgres(connectionString): {connectionString}; poll interval {Poll.TotalSeconds} s) did not run within 10 s: " +
                $"the process did not hear its notification. Worker stderr: {worker.StandardError}");
        }
    }

    [Fact]
    public async Task A_push_from_another_process_wakes_the_idle_AotWorker_sample()
    {
        var schema = "listen_aot_" + Guid.NewGuid().ToString("N")[..8]; // the sample publishes its schedule there
        await using var pusher = await TestQueue.CreateAsync(fixture, _ => { }, driver: o => o.Schema = schema);
        try
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(AotWorkerSampleTests.SampleDll());
            info.Environment["ConnectionStrings__Jobs"] = fixture.ConnectionString;
            info.Environment["Jobs__Schema"] = schema;
            info.Environment["Jobs__QueueName"] = pusher.Queue.QueueName;
            info.Environment["Jobs__PollIntervalMs"] = ((int)Poll.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var sample = Process.Start(info)!;
            sample.OutputDataReceived += (_, _) => { };
            sample.ErrorDataReceived += (_, _) => { };
            sample.BeginOutputReadLine();
            sample.BeginErrorReadLine();
            try
            {
                var warm = await pusher.Queue.PushAsync(new SamplePing(0));
                await TestExtensions.EventuallyAsync(() => ClaimedAsync(pusher, warm), seconds: 90, what: "the sample ran its first ping");
                var id = await pusher.Queue.PushAsync(new SamplePing(1));
                var heard = await Record.ExceptionAsync(() => TestExtensions.EventuallyAsync(() => ClaimedAsync(pusher, id), seconds: 10, what: "the ping ran"));
                Assert.True(heard is null,
                    $"A ping pushed by another process to the idle AotWorker sample (queue '{pusher.Queue.QueueName}', poll interval {Poll.TotalSeconds} s) " +
                    "was not claimed within 10 s: the sample did not hear its notification.");
            }
            finally
            {
                sample.Kill(entireProcessTree: true);
                await sample.WaitForExitAsync();
            }
        }
        finally
        {
            await pusher.DataSource.ExecAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }

    /// <summary>The job left its waiting state (the sample completes and deletes it; a failure to decode it would also end it).</summary>
    private static async Task<bool> ClaimedAsync(TestQueue pusher, JobId id)
        => await pusher.Queue.GetJobAsync(id) is not { State: JobState.Pending };

    private static async Task<bool> RanAsync(TestQueue pusher, string table, JobId id)
        => await pusher.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table} WHERE job_id = '{id.Value}'") == 1;
}

/// <summary>The AotWorker sample's <c>ping</c> job, pushed from here (its generated payload: <c>{"sequence": n}</c>).</summary>
public sealed record SamplePing(int Sequence) : IJob<SamplePing>
{
    public static string JobName => "ping";

    public static void Serialize(Utf8JsonWriter writer, SamplePing job) => IntMemberJson.Write(writer, "sequence", job.Sequence);

    public static SamplePing Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "sequence", nameof(Sequence)));
}
