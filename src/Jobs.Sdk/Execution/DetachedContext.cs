namespace Jobs.Sdk;

/// <summary>
/// Starts the SDK's long-lived background loops (a worker's claim loop and its helpers, a scheduler's, the presence
/// reporter's, the PostgreSQL driver's schema check and push announcements) without the caller's
/// <see cref="ExecutionContext"/>. A loop is the process's own work: started with the caller's context, it would keep the
/// caller's <c>Activity.Current</c> (an app's start-up span, a request) as the parent of every statement it runs for
/// the life of the process, the caller's logging scope on every line it logs, and the caller's ambient
/// <c>TransactionScope</c> (with async flow) around every handler and statement.
/// </summary>
internal static class DetachedContext
{
    /// <summary>Runs <paramref name="start"/> with the execution context's flow suppressed (tasks and timers it starts get none).</summary>
    public static void Run(Action start)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            start();
            return;
        }

        using (ExecutionContext.SuppressFlow())
        {
            start();
        }
    }

    /// <summary>Starts <paramref name="loop"/> on the thread pool without the caller's execution context.</summary>
    public static Task Start(Func<Task> loop)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Task.Run(loop, CancellationToken.None);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(loop, CancellationToken.None);
        }
    }
}
