using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <content>
/// A bulk action's statement cancelled by the session's <c>statement_timeout</c> (a role's or database's setting: common on
/// managed PostgreSQL, 30 s to 60 s against millions of rows, or short on an OLTP role). The statement is its own
/// transaction, so PostgreSQL rolled it back and none of its jobs changed: the store says so with a
/// <see cref="JobBatchTimeoutException"/> (logged, event 2040), and <see cref="JobAdmin"/> tries the jobs again in smaller
/// statements. For a single job the message is the action's error: it names the timeout, where it is set and the role, and
/// how to raise it. A cancel of the caller's token, or of another session (<c>pg_cancel_backend</c>), is no timeout and
/// keeps its own exception.
/// </content>
public sealed partial class PostgresJobAdminStore
{
    /// <summary>The timeout in effect, the connected role, where the setting comes from (<c>pg_settings.source</c>), and the timeout in milliseconds.</summary>
    private const string StatementTimeoutSetting =
        "SELECT current_setting('statement_timeout'), current_user::text, source, setting::bigint FROM pg_settings WHERE name = 'statement_timeout'";

    /// <summary>
    /// Whether <paramref name="e"/> may be the session's statement_timeout cancelling a statement (not the caller's token).
    /// A cancel of another session (<c>pg_cancel_backend</c>) has the same code; <see cref="StatementTimedOutAsync"/> tells
    /// them apart by the time the statement ran, not by the server's message, which is in its <c>lc_messages</c> language.
    /// </summary>
    private static bool MayBeStatementTimeout(PostgresException e, CancellationToken cancellationToken)
        => e.SqlState == PostgresErrorCodes.QueryCanceled && !cancellationToken.IsCancellationRequested;

    /// <summary>
    /// The <see cref="JobBatchTimeoutException"/> of <paramref name="action"/> on <paramref name="ids"/> cancelled with
    /// <paramref name="canceled"/> after <paramref name="ran"/>, logged; <see langword="null"/> when the session has no
    /// statement_timeout or the statement was cancelled before it had run that long (another session cancelled it), or the
    /// setting cannot be read (the connection broke).
    /// </summary>
    private async Task<JobBatchTimeoutException?> StatementTimedOutAsync(NpgsqlConnection connection, JobAdminAction action, IReadOnlyList<JobId> ids,
        PostgresException canceled, TimeSpan ran)
    {
        string timeout, role, source;
        long milliseconds;
        try
        {
            var command = new NpgsqlCommand(StatementTimeoutSetting, connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                return null;
            }

            (timeout, role, source, milliseconds) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
        }
        catch (NpgsqlException)
        {
            return null;
        }

        // Measured here, the statement ran at least as long as the server counted: a statement cancelled sooner than the
        // timeout was cancelled by someone else (whatever language the server's message is in).
        if (milliseconds == 0 || ran < TimeSpan.FromMilliseconds(milliseconds))
        {
            return null;
        }

        var what = Describe(action.Kind);
        var setting = $"PostgreSQL's statement_timeout of {timeout} ({SetBy(source, role)})";
        PostgresLog.BulkStatementTimedOut(_readOnlyReset.Log, what, ids.Count, timeout, role, source);
        var message = ids.Count > 1
            ? $"A bulk {what} of {ids.Count} jobs ran past {setting} for role '{role}' and was cancelled (57014): its transaction was rolled back, " +
                "none of its jobs changed. JobAdmin tries them again in smaller statements."
            : $"A bulk {what} of a single job ({ids[0]}) ran past {setting} for role '{role}' and was cancelled (57014): that job was not changed. " +
                $"Raise the timeout for the role that operates the jobs (ALTER ROLE \"{role.Replace("\"", "\"\"", StringComparison.Ordinal)}\" SET statement_timeout = '5min'), " +
                "or only for the connections of the tool or process that runs the action (Options=-c statement_timeout=0 in its connection string), and run " +
                "the action again; the jobs it changed " +
                "before are counted in the audit log. A job whose row another transaction holds locked waits for it too: see jobs doctor for long transactions.";
        return new JobBatchTimeoutException(message, ids.Count, canceled);
    }

    /// <summary>Where the timeout in effect comes from, as an operator changes it (<c>pg_settings.source</c>).</summary>
    private static string SetBy(string source, string role) => source switch
    {
        "user" => $"set for role '{role}': ALTER ROLE",
        "database" => "set for the database: ALTER DATABASE",
        "database user" => $"set for role '{role}' in this database: ALTER ROLE ... IN DATABASE",
        "client" => "set by the connection: its Options or PGOPTIONS",
        "session" => "set in the session: SET",
        "configuration file" or "global" => "set in the server's configuration: postgresql.conf or ALTER SYSTEM",
        _ => "source: " + source,
    };

    private static string Describe(JobAdminActionKind kind) => kind switch
    {
        JobAdminActionKind.Retry => "retry",
        JobAdminActionKind.Cancel => "cancel",
        JobAdminActionKind.Delete => "delete",
        JobAdminActionKind.SetPriority => "priority change",
        JobAdminActionKind.RunNow => "run-now",
        _ => kind.ToString(),
    };
}
