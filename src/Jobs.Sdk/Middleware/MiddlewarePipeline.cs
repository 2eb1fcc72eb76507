using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// The registered <see cref="IJobMiddleware"/> in registration order, and the one error policy for all of them.
/// </summary>
/// <remarks>
/// <para><b>Wrapper</b> (<see cref="IJobMiddleware.HandleAsync"/>): part of the attempt. First registered is outermost; an
/// exception from a wrapper is the attempt's exception (a failed attempt, retried per the retry rule).</para>
/// <para><b>Observers</b> (<see cref="IJobMiddleware.OnPushAsync"/>, <see cref="IJobMiddleware.OnPopAsync"/>,
/// <see cref="IJobMiddleware.OnCompletedAsync"/>): each runs after the fact it reports is true in the store (a push or a
/// retry is written, a job is claimed, a final outcome is written), in registration order. An observer's exception is
/// logged (event 1105) and changes nothing: the push still returns its id, the job still runs, the outcome stays
/// recorded, and the later observers still run.</para>
/// </remarks>
internal sealed class MiddlewarePipeline
{
    private readonly IJobMiddleware[] _middleware;
    private readonly ILogger _logger;

    public MiddlewarePipeline(IEnumerable<IJobMiddleware> middleware, ILogger logger)
    {
        _middleware = middleware.ToArray();
        _logger = logger;
    }

    /// <summary>Whether any middleware is registered (callers skip building contexts when not).</summary>
    public bool IsEmpty => _middleware.Length == 0;

    /// <summary>Runs the push observers for a job (or a retry) that is stored.</summary>
    public ValueTask OnPushedAsync(JobPushContext context, CancellationToken cancellationToken)
        => IsEmpty ? default : ObserveAsync(static (m, c, ct) => m.OnPushAsync(c, ct), context, "OnPush", cancellationToken);

    /// <summary>Runs the pop observers for a claimed job (decoded, or with the error that keeps it from running).</summary>
    public ValueTask OnPoppedAsync(JobPopContext context, CancellationToken cancellationToken)
        => IsEmpty ? default : ObserveAsync(static (m, c, ct) => m.OnPopAsync(c, ct), context, "OnPop", cancellationToken);

    /// <summary>Runs the completion observers for a job whose final outcome is recorded.</summary>
    public ValueTask OnCompletedAsync(JobCompletedContext context, CancellationToken cancellationToken)
        => IsEmpty ? default : ObserveAsync(static (m, c, ct) => m.OnCompletedAsync(c, ct), context, "OnCompleted", cancellationToken);

    /// <summary>Wraps <paramref name="handler"/> in every middleware's <see cref="IJobMiddleware.HandleAsync"/> and runs it.</summary>
    public Task HandleAsync(JobExecutionContext context, Func<Task> handler, CancellationToken cancellationToken)
    {
        var next = handler;
        for (var i = _middleware.Length - 1; i >= 0; i--)
        {
            var middleware = _middleware[i];
            var inner = next;
            next = () => middleware.HandleAsync(context, inner, cancellationToken);
        }

        return next();
    }

    private async ValueTask ObserveAsync<TContext>(Func<IJobMiddleware, TContext, CancellationToken, ValueTask> hook, TContext context, string name,
        CancellationToken cancellationToken)
    {
        foreach (var middleware in _middleware)
        {
            try
            {
                await hook(middleware, context, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.MiddlewareFailed(_logger, ex, middleware.GetType().Name, name);
            }
        }
    }
}
