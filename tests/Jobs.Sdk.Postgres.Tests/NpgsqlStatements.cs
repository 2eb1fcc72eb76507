using System.Collections.Concurrent;
using System.Diagnostics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Npgsql's tracing as an app turns it on (OpenTelemetry's <c>AddNpgsql</c>): a listener on the "Npgsql" activity source
/// that records, for every statement that ran, its trace and its text (<c>db.query.text</c>).
/// </summary>
public sealed class NpgsqlStatements : IDisposable
{
    private readonly ConcurrentQueue<Statement> _ran = new();
    private readonly ActivityListener _listener;

    /// <param name="ran">Called with each statement as it is recorded.</param>
    public NpgsqlStatements(Action<Statement>? ran = null)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => // the statement's text is tagged once it ran
            {
                var statement = new Statement(a.TraceId, a.GetTagItem("db.query.text") as string ?? "");
                _ran.Enqueue(statement);
                ran?.Invoke(statement);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Every statement that ran so far, in the order they ended.</summary>
    public IReadOnlyList<Statement> Ran => _ran.ToArray();

    public void Dispose() => _listener.Dispose();

    /// <summary>One statement (or batch): the trace it belongs to and its text.</summary>
    public sealed record Statement(ActivityTraceId TraceId, string Text);
}
