using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A logger provider that records the event id of every log entry (register it with <c>AddProvider</c>).</summary>
internal sealed class EventIdLog : ILoggerProvider
{
    public ConcurrentBag<int> Ids { get; } = [];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(EventIdLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Ids.Add(eventId.Id);
    }
}
