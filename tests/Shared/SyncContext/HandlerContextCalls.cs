using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Handlers that install a <see cref="SynchronizationContext"/> of their own on the worker's thread and leave it there (a
/// handler using a UI or single-threaded async library does): the worker's own code after the handler must not resume on it,
/// and the next handler must not start on it.
/// </summary>
public static class HandlerContextCalls
{
    /// <summary>Runs <paramref name="count"/> such jobs on one runner, stops the worker and asserts the above.</summary>
    public static async Task RunAsync(Action<JobsBuilder> useDriver, int count = 6)
    {
        var contexts = new ConcurrentQueue<HandlerContext>();
        var foundAtStart = new ConcurrentQueue<string>();
        var runs = Enumerable.Range(0, count).Select(static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var services = new ServiceCollection();
        services.AddJobs(jobs =>
        {
            useDriver(jobs);
            jobs.AddJob<ValueJob>((job, _, _) =>
            {
                if (SynchronizationContext.Current is HandlerContext left)
                {
                    foundAtStart.Enqueue($"job {job.Value} started on the context job {left.Job}'s handler installed");
                }

                var mine = new HandlerContext(job.Value);
                contexts.Enqueue(mine);
                SynchronizationContext.SetSynchronizationContext(mine); // and never restored
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                // Ends later on another thread: whatever the worker awaits next sees an incomplete task.
                ThreadPool.UnsafeQueueUserWorkItem(static state =>
                {
                    var (done, run) = ((TaskCompletionSource, TaskCompletionSource))state!;
                    done.SetResult();
                    run.SetResult();
                }, (done, runs[job.Value]));
                return done.Task;
            }).AddWorkers(o => o.Concurrency = 1);
        });
        await using var provider = services.BuildServiceProvider();
        var queue = provider.GetRequiredService<JobQueue>();
        var worker = provider.GetRequiredService<JobWorker>();
        var ids = await queue.PushManyAsync(Enumerable.Range(0, count).Select(static i => new ValueJob(i)));
        await worker.StartAsync(CancellationToken.None);
        await Task.WhenAll(runs.Select(static r => r.Task)).WaitAsync(TimeSpan.FromMinutes(2));
        await worker.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));

        var posted = contexts.SelectMany(static c => c.Posted).ToArray();
        Assert.True(posted.Length == 0, $"the worker resumed on a handler's SynchronizationContext {posted.Length} time(s): {string.Join(" | ", posted)}");
        Assert.True(foundAtStart.IsEmpty, string.Join(" | ", foundAtStart));
        foreach (var id in ids)
        {
            // Completed (or already removed by a retention that keeps no completed jobs), not failed or still running.
            Assert.True((await queue.GetJobAsync(id))?.State is null or JobState.Completed, $"job {id} did not complete");
        }
    }

    /// <summary>Records what is posted or sent to it and runs it on the thread pool (so nothing waits on it).</summary>
    private sealed class HandlerContext(int job) : SynchronizationContext
    {
        private readonly ConcurrentQueue<string> _posted = new();

        public int Job { get; } = job;

        public IEnumerable<string> Posted => _posted;

        public override SynchronizationContext CreateCopy() => this;

        public override void Post(SendOrPostCallback d, object? state)
        {
            _posted.Enqueue($"Post to job {Job}'s context: {BlockingCaller.Describe(d, state)}");
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.d(s.state), (d, state), preferLocal: false);
        }

        public override void Send(SendOrPostCallback d, object? state)
        {
            _posted.Enqueue($"Send to job {Job}'s context: {BlockingCaller.Describe(d, state)}");
            d(state);
        }
    }
}
