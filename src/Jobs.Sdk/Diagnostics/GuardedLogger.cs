using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Sdk;

/// <summary>
/// The SDK's view of an app's logger: an entry, a level check or a scope the app's providers throw on (a provider with a
/// bug, a sink that is down: Microsoft.Extensions.Logging rethrows a provider's exception to the caller) is dropped where it
/// is logged. The SDK logs from its loops (claims, outcomes, renewals, rescue, the scheduler, the store's start-up check),
/// and an entry that threw there ended the loop (the worker stopped claiming while the process looked healthy) or was taken
/// for the failure of the work it reported on (a completed job recorded as failed). The failure is not logged again: the
/// same providers would throw again.
/// </summary>
internal sealed class GuardedLogger : ILogger
{
    private readonly ILogger _logger;

    private GuardedLogger(ILogger logger) => _logger = logger;

    /// <summary><paramref name="logger"/> guarded (once), or <see cref="NullLogger.Instance"/> when none is given.</summary>
    public static ILogger For(ILogger? logger) => logger switch
    {
        null => NullLogger.Instance,
        NullLogger or GuardedLogger => logger,
        _ => new GuardedLogger(logger),
    };

    /// <summary>
    /// The app's scope, or none when beginning it throws. Its disposal is the caller's to guard (<see cref="EndScope"/>):
    /// wrapping it here would allocate for every job.
    /// </summary>
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull
    {
        try
        {
            return _logger.BeginScope(state);
        }
        catch (Exception ex) when (IsProviderFault(ex))
        {
            return null;
        }
    }

    public bool IsEnabled(LogLevel logLevel)
    {
        try
        {
            return _logger.IsEnabled(logLevel);
        }
        catch (Exception ex) when (IsProviderFault(ex))
        {
            return false;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            _logger.Log(logLevel, eventId, state, exception, formatter);
        }
        catch (Exception ex) when (IsProviderFault(ex))
        {
            // Dropped: see the type's remarks.
        }
    }

    /// <summary>Ends a scope of <see cref="BeginScope"/>; a provider that throws ending it is ignored, as one beginning it.</summary>
    public static void EndScope(IDisposable? scope)
    {
        try
        {
            scope?.Dispose();
        }
        catch (Exception ex) when (IsProviderFault(ex))
        {
            // Dropped, as a scope that could not begin.
        }
    }

    private static bool IsProviderFault(Exception exception) => exception is not OutOfMemoryException;
}
