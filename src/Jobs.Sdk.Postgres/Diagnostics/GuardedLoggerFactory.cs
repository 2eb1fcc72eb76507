using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The app's logger factory as the data sources the SDK builds (<see cref="PostgresJobsBuilderExtensions.CreateDataSource"/>)
/// see it: its loggers are guarded (<see cref="GuardedLogger"/>). Npgsql logs every command it completes (Information,
/// event 2001) after the command ran, and does not catch a provider that throws: the caller got the provider's exception for
/// a push that was stored or a claim that took its jobs, and the connection was left with its command "in progress".
/// </summary>
internal sealed class GuardedLoggerFactory(ILoggerFactory factory) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => GuardedLogger.For(factory.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => factory.AddProvider(provider);

    /// <summary>Nothing to release: the app's factory is the app's to dispose.</summary>
    public void Dispose()
    {
    }
}
