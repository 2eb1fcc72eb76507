using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// The thread of a WinForms/WPF app or a classic ASP.NET request: a single-threaded <see cref="SynchronizationContext"/> whose
/// owner calls the SDK's async methods and blocks on them (<c>.GetAwaiter().GetResult()</c>, <c>.Result</c>, <c>.Wait()</c>).
/// Every <see cref="Post"/>/<see cref="Send"/> made to it is recorded with the continuation it carries. A real context of that
/// kind runs posted work only on its blocked thread, so a continuation posted while the owner blocks is a deadlock; here it
/// wakes the block instead, is pumped on the owner thread until the call ends (so the test leaves nothing behind) and the
/// call fails naming the continuation. No timeout decides anything: a generous hang guard only turns a hang into a failure.
/// </summary>
/// <remarks>
/// Create one on the test thread (it becomes that thread's context), make the calls with <see cref="Wait"/>, end with
/// <see cref="AssertNothingPosted"/> (something posted between the calls is code that captured the caller's context and went on
/// later, such as a loop started on it, which a real app would run on its UI thread), then dispose it.
/// </remarks>
public sealed class BlockingCaller : SynchronizationContext, IDisposable
{
    /// <summary>Only turns a hang into a failure; nothing waits for it to pass.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State, ManualResetEventSlim? Sent)> _queue = new();
    private readonly ConcurrentQueue<string> _posted = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SynchronizationContext? _previous;
    private readonly int _ownerThread;
    private bool _disposed;

    /// <summary>Becomes the calling thread's context until disposed.</summary>
    public BlockingCaller()
    {
        _previous = Current;
        _ownerThread = Environment.CurrentManagedThreadId;
        SetSynchronizationContext(this);
    }

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state)
    {
        _posted.Enqueue("Post " + Describe(d, state));
        _queue.Enqueue((d, state, null));
        _wake.Release();
    }

    /// <inheritdoc />
    public override void Send(SendOrPostCallback d, object? state)
    {
        _posted.Enqueue("Send " + Describe(d, state));
        if (Environment.CurrentManagedThreadId == _ownerThread)
        {
            d(state);
            return;
        }

        // As a UI context does: the sender waits until the owner thread ran it.
        using var sent = new ManualResetEventSlim();
        _queue.Enqueue((d, state, sent));
        _wake.Release();
        sent.Wait();
    }

    /// <summary>Blocks on <paramref name="call"/> as <c>.GetAwaiter().GetResult()</c> does on this context's thread.</summary>
    public void Wait(string what, Func<Task> call) => Wait<object?>(what, async () =>
    {
        await call().ConfigureAwait(false);
        return null;
    });

    /// <inheritdoc cref="Wait(string, Func{Task})"/>
    public void Wait(string what, Func<ValueTask> call) => Wait(what, () => call().AsTask());

    /// <summary>
    /// Blocks on <paramref name="call"/> as <c>.GetAwaiter().GetResult()</c> does on this context's thread and returns its
    /// result; fails when the call posted a continuation to this context while it was blocked (a deadlock in a real app).
    /// </summary>
    public T Wait<T>(string what, Func<Task<T>> call)
    {
        Assert.Equal(_ownerThread, Environment.CurrentManagedThreadId);
        Assert.Same(this, Current);
        AssertNothingPosted("before " + what);
        var task = call();
        // Wake when the call ends as well as when something is posted (the continuation runs on whichever thread ended it).
        task.ContinueWith(static (_, wake) => ((SemaphoreSlim)wake!).Release(), _wake, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (!task.IsCompleted || !_queue.IsEmpty)
        {
            Assert.True(_wake.Wait(HangGuard), $"{what} neither ended nor posted to the caller's context in {HangGuard} (hang guard)."
                + (_posted.IsEmpty ? "" : $" It had posted: {string.Join(" | ", _posted)}"));
            // A real single-threaded context would stay blocked here for good; this one runs what was posted and goes on.
            RunPosted();
        }

        var posted = TakePosted();
        Assert.True(posted.Length == 0,
            $"{what} posted {posted.Length} continuation(s) to the caller's SynchronizationContext while the caller blocked on it " +
            $"(a WinForms/WPF/classic ASP.NET thread calling it with .GetAwaiter().GetResult() deadlocks): {string.Join(" | ", posted)}");
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs what was posted since the last call and fails if anything was (code that captured this context later on).</summary>
    public void AssertNothingPosted(string when)
    {
        RunPosted();
        var posted = TakePosted();
        Assert.True(posted.Length == 0, $"{posted.Length} continuation(s) were posted to the caller's SynchronizationContext {when}: " +
            string.Join(" | ", posted));
    }

    /// <summary>
    /// Runs what is left and restores the previous context. Does not assert (a failure it raised would hide the test's own):
    /// end the test with <see cref="AssertNothingPosted"/>.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            RunPosted();
        }
        finally
        {
            SetSynchronizationContext(_previous);
            _wake.Dispose();
        }
    }

    /// <summary>What was posted since the last report (reported once).</summary>
    private string[] TakePosted()
    {
        var taken = new List<string>();
        while (_posted.TryDequeue(out var line))
        {
            taken.Add(line);
        }

        return [.. taken];
    }

    private void RunPosted()
    {
        while (_queue.TryDequeue(out var item))
        {
            try
            {
                item.Callback(item.State);
            }
            finally
            {
                item.Sent?.Set();
            }
        }
    }

    /// <summary>The async method a continuation resumes (its state machine), else the callback's method.</summary>
    internal static string Describe(SendOrPostCallback d, object? state)
    {
        // A task's continuation posts its MoveNext delegate; a value-task source posts (continuation, state) as a tuple.
        var candidates = new List<object?> { state };
        if (state is ITuple tuple)
        {
            for (var i = 0; i < tuple.Length; i++)
            {
                candidates.Add(tuple[i]);
            }
        }

        foreach (var candidate in candidates)
        {
            if ((candidate as Delegate)?.Target?.GetType() is { IsGenericType: true } box
                && box.GetGenericArguments().LastOrDefault(static t => typeof(IAsyncStateMachine).IsAssignableFrom(t)) is { } machine)
            {
                return "continuation of " + (machine.FullName ?? machine.Name);
            }
        }

        return (d.Method.DeclaringType?.FullName ?? "?") + "." + d.Method.Name;
    }
}
