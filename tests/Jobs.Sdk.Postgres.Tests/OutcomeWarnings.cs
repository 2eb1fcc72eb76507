using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Records the outcome writer's warnings (event 1004): how many outcomes the failed write carried, and the delay it announced.</summary>
internal sealed class OutcomeWarnings : ILoggerProvider
{
    public ConcurrentQueue<(int Count, TimeSpan Delay)> Entries { get; } = [];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(OutcomeWarnings owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != 1004 || state is not IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                return;
            }

            var count = fields.Single(f => f.Key == "Count").Value;
            var delay = fields.Single(f => f.Key == "Delay").Value;
            owner.Entries.Enqueue(((int)count!, (TimeSpan)delay!));
        }
    }
}
