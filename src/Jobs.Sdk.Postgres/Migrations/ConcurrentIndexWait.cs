using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A <c>CREATE INDEX CONCURRENTLY</c> migration step that is waiting for other sessions' transactions to end: which step,
/// for how long, in which phase of the build, and the sessions it waits for.
/// </summary>
internal sealed record ConcurrentIndexWait(string Schema, string Migration, string Index, TimeSpan Waited, string Phase, IReadOnlyList<BlockingSession> Sessions)
{
    /// <summary>What the operator can do, the end of the log event and of <c>jobs migrate</c>'s line.</summary>
    public const string Advice = "The build waits as long as they stay open (it blocks no reads or writes of the table). " +
        "To go on now, commit or end them (SELECT pg_terminate_backend(pid)); to give up, stop this process or press Ctrl+C: " +
        "the half-built index is dropped and built again on the next run";

    /// <summary>The sessions, one after the other: pid, application name, state and transaction age.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        foreach (var session in Sessions)
        {
            if (sb.Length > 0)
            {
                sb.Append("; ");
            }

            sb.Append("pid ").Append(session.Pid.ToString(CultureInfo.InvariantCulture));
            if (session.State is null)
            {
                // Another role's session, and this role is not a member of pg_read_all_stats: pg_stat_activity hides the rest.
                sb.Append(" (details hidden from this role)");
                continue;
            }

            sb.Append(" (application '").Append(session.ApplicationName).Append("', ").Append(session.State);
            if (session.TransactionAge is { } age)
            {
                sb.Append(", transaction open for ").Append(Math.Round(age.TotalSeconds).ToString(CultureInfo.InvariantCulture)).Append(" s");
            }

            sb.Append(')');
        }

        return sb.ToString();
    }

    /// <summary>The same sentence as the log event (<c>jobs migrate</c> writes it to stderr).</summary>
    public override string ToString()
        => $"Job queue migration {Migration} (schema '{Schema}') has waited {Waited:hh\\:mm\\:ss} to build index {Index} concurrently ({Phase}): " +
           $"it waits for these older transactions to end: {Describe()}. {Advice}.";
}

/// <summary>A session a concurrent index build waits for, as <c>pg_stat_activity</c> shows it (null state: hidden from this role).</summary>
internal sealed record BlockingSession(int Pid, string? ApplicationName, string? State, TimeSpan? TransactionAge);

/// <summary>
/// How a migration says that a concurrent index build waits: first after <see cref="First"/>, then every
/// <see cref="Every"/> while it still waits, through <see cref="Waiting"/>.
/// </summary>
internal sealed record MigrationWaitReport(TimeSpan First, TimeSpan Every, Action<ConcurrentIndexWait> Waiting)
{
    /// <summary>At 10 s of waiting, then every 30 s.</summary>
    public static MigrationWaitReport Default(Action<ConcurrentIndexWait> waiting) => new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), waiting);

    /// <summary>The host's report: <see cref="PostgresLog.ConcurrentIndexWaiting"/> (event 2005) at 10 s, then every 30 s.</summary>
    public static MigrationWaitReport Logging(ILogger logger) => Default(wait =>
        PostgresLog.ConcurrentIndexWaiting(logger, wait.Migration, wait.Schema, wait.Waited, wait.Index, wait.Phase, wait.Describe()));
}
