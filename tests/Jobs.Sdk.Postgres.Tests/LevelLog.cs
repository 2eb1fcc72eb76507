using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A logger provider that records every entry logged at <see cref="LogLevel.Warning"/> or above (register it with
/// <c>AddProvider</c>), with the time it came.
/// </summary>
internal sealed class LevelLog : ILoggerProvider
{
    public ConcurrentQueue<string> Errors { get; } = [];

    public ConcurrentQueue<(DateTime At, string Entry)> Warnings { get; } = [];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LevelLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var entry = $"{category}[{eventId.Id}] {formatter(state, exception)} {exception?.GetType().Name}: {exception?.Message}";
            if (logLevel >= LogLevel.Error)
            {
                owner.Errors.Enqueue(entry);
            }
            else if (logLevel == LogLevel.Warning)
            {
                owner.Warnings.Enqueue((DateTime.UtcNow, entry));
            }
        }
    }
}
