using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A logging provider whose loggers throw from <see cref="ILogger.Log{TState}"/> for the entries of the categories starting
/// with one of <paramref name="categories"/> (Jobs.Sdk's when none are given) that <paramref name="throwsFor"/> picks
/// (register it with <c>AddProvider</c>): an app's provider with a bug, or one whose sink is down. The host's own entries
/// pass, so the host starts and stops as it would with any provider.
/// </summary>
internal sealed class ThrowingLog(Func<LogLevel, EventId, bool> throwsFor, params string[] categories) : ILoggerProvider
{
    private readonly string[] _categories = categories.Length == 0 ? ["Jobs.Sdk"] : categories;
    private readonly Func<LogLevel, EventId, bool> _throwsFor = throwsFor;
    private int _thrown;

    /// <summary>How many entries threw so far.</summary>
    public int Thrown => Volatile.Read(ref _thrown);

    public ILogger CreateLogger(string categoryName) => new Logger(this, _categories.Any(c => categoryName.StartsWith(c, StringComparison.Ordinal)));

    public void Dispose()
    {
    }

    private sealed class Logger(ThrowingLog owner, bool throws) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (throws && owner._throwsFor(logLevel, eventId))
            {
                Interlocked.Increment(ref owner._thrown);
                throw new InvalidOperationException($"The log sink is down (entry {eventId.Id} at {logLevel} not written).");
            }
        }
    }
}
