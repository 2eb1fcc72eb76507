using System.Collections.Concurrent;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Records the <see cref="TaskScheduler.UnobservedTaskException"/> reports whose exception text contains
/// <see cref="Marker"/> (a fresh one per guard: other tests' leftovers in the same process never match), from creation until
/// disposal. An app that reports that event (as error trackers do) would see each one as an error nobody can act on.
/// </summary>
public sealed class UnobservedTaskFaults : IDisposable
{
    private readonly ConcurrentQueue<AggregateException> _reported = new();

    public UnobservedTaskFaults() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    /// <summary>Put this in the message of every exception the test provokes.</summary>
    public string Marker { get; } = "unobserved-probe-" + Guid.NewGuid().ToString("N");

    /// <summary>An exception carrying <see cref="Marker"/>.</summary>
    public Exception NewFault(string what) => new InvalidOperationException($"{what} ({Marker})");

    /// <summary>
    /// Collects garbage until the finalizers of unreachable faulted tasks have run (they raise the event), then asserts that
    /// none of them carried <see cref="Marker"/>. The caller must hold no reference to the tasks in question.
    /// </summary>
    /// <remarks>
    /// The collections run on another thread, after the caller's stack is left: a test's code often runs as an inline
    /// continuation of the timer or token callback that ended the SDK's wait, whose frames (below it, on the same stack) still
    /// hold that wait and so the task it waited for; unwound, they hold nothing.
    /// </remarks>
    public async Task AssertNoneReportedAsync()
    {
        await Task.Run(static () =>
        {
            for (var i = 0; i < 5; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });

        Assert.True(_reported.IsEmpty, $"{_reported.Count} task(s) faulted unobserved: " +
            string.Join(" | ", _reported.Select(static e => e.Flatten().InnerExceptions.FirstOrDefault()?.ToString())));
    }

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        if (e.Exception.ToString().Contains(Marker, StringComparison.Ordinal))
        {
            _reported.Enqueue(e.Exception);
        }
    }
}
