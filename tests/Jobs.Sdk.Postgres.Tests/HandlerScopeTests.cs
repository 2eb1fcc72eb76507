using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>The DI scope a handler runs in: one per job, disposed after it, and what a failing disposal does.</summary>
[Collection(PostgresCollection.Name)]
public sealed class HandlerScopeTests(PostgresFixture fixture)
{
    /// <summary>
    /// A scoped service whose <c>DisposeAsync</c> throws (a unit of work that flushes on dispose, a client whose connection
    /// is already gone) fails when the job's scope is disposed, after the handler returned. That attempt must get an outcome
    /// with that error (here its last attempt: failed), not sit 'processing' until its lease expires and be run again.
    /// </summary>
    [Fact]
    public async Task A_scoped_service_that_throws_on_dispose_fails_the_attempt_with_its_error()
    {
        var runs = new Recorder<JobId>();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddScoped<ThrowingOnDispose>();
            b.AddJob<ValueJob>((_, context, _) =>
            {
                context.Services.GetRequiredService<ThrowingOnDispose>();
                runs.Add(context.Id);
                return Task.CompletedTask;
            });
        }, driver: o => o.Retention = new RetentionPolicy { FailedJobs = Retain.Yes },
            worker: o =>
            {
                o.LeaseDuration = TimeSpan.FromSeconds(2);
                o.RescueInterval = TimeSpan.FromMilliseconds(200);
            });

        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await q.StartAsync();
        JobInfo? job = null;
        await TestExtensions.EventuallyAsync(async () => (job = await q.Queue.GetJobAsync(id))?.State == JobState.Failed, 60, "the job fails");

        Assert.True(runs.Count == 1 && job!.LastError?.Contains("The unit of work could not flush.", StringComparison.Ordinal) == true,
            $"The job is {job!.State} after {runs.Count} run(s), attempts {job.Attempts}, error: {job.LastError}");
    }

    /// <summary>
    /// A handler whose dependency is not registered fails its attempt with the container's message naming the missing
    /// service (and is retried); the worker keeps running other jobs, each in a scope of its own whose
    /// <see cref="IAsyncDisposable"/>-only services are disposed once the job ends.
    /// </summary>
    [Fact]
    public async Task A_handler_with_a_missing_dependency_fails_clearly_and_other_jobs_get_their_own_disposed_scope()
    {
        var scopes = new Recorder<AsyncOnlyService>();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddScoped<AsyncOnlyService>();
            b.AddJob<ValueJob, ScopedHandler>();
            b.AddJob<OrphanJob, MissingDependencyHandler>();
        }, driver: o => o.Retention = new RetentionPolicy { FailedJobs = Retain.Yes, CompletedJobs = Retain.Yes });
        ScopedHandler.Seen = scopes;

        var broken = await q.Queue.PushAsync(new OrphanJob(1), new JobOptions { MaxAttempts = 2 });
        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await q.Queue.PushAsync(new ValueJob(i)));
        }

        await q.StartAsync();
        JobInfo? failed = null;
        await TestExtensions.EventuallyAsync(async () => (failed = await q.Queue.GetJobAsync(broken))?.State == JobState.Failed, 60, "the broken job fails");
        await TestExtensions.EventuallyAsync(async () =>
        {
            foreach (var id in ids)
            {
                if ((await q.Queue.GetJobAsync(id))?.State != JobState.Completed)
                {
                    return false;
                }
            }

            return true;
        }, 60, "the other jobs complete");

        Assert.True(failed!.Attempts == 2 && failed.LastError?.Contains(nameof(IMissingDependency), StringComparison.Ordinal) == true,
            $"The job with a missing dependency is {failed.State} after {failed.Attempts} attempt(s), error: {failed.LastError}");
        Assert.Equal(3, scopes.Items.Distinct().Count());
        Assert.All(scopes.Items, s => Assert.Equal(1, s.Disposed));
    }

    public interface IMissingDependency;

    public sealed class MissingDependencyHandler(IMissingDependency dependency) : IJobHandler<OrphanJob>
    {
        public Task HandleAsync(OrphanJob job, JobContext context, CancellationToken cancellationToken) => Task.FromResult(dependency);
    }

    public sealed class AsyncOnlyService : IAsyncDisposable
    {
        public int Disposed;

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref Disposed);
            return ValueTask.CompletedTask;
        }
    }

    public sealed class ScopedHandler(AsyncOnlyService service) : IJobHandler<ValueJob>
    {
        public static Recorder<AsyncOnlyService>? Seen;

        public Task HandleAsync(ValueJob job, JobContext context, CancellationToken cancellationToken)
        {
            Seen!.Add(service);
            return Task.CompletedTask;
        }
    }

    private sealed class ThrowingOnDispose : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => throw new InvalidOperationException("The unit of work could not flush.");
    }
}
