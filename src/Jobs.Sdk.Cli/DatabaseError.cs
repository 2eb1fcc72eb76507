using System.Net.Sockets;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>
/// One line for an operator about a database failure, saying what to check: Npgsql's own messages name neither the host
/// it could not resolve ("Name or service not known") nor the timeout that ended a statement ("Exception while reading
/// from stream"), and a server error's message spans lines (<c>POSITION: 57</c>).
/// </summary>
internal static class DatabaseError
{
    public static string Describe(NpgsqlException ex, string? connection, string schema) => ex switch
    {
        PostgresException p => $"{p.SqlState}: {p.MessageText}{Advice(p, connection, schema)}",
        _ when NoPasswordGiven(ex) =>
            $"PostgreSQL at {Server(connection)} asks for a password for role '{Builder(connection)?.Username ?? Environment.UserName}' and none was given. " +
            "Add Password=... to --connection or JOBS_CONNECTION, or set PGPASSWORD, or give the password in ~/.pgpass (Passfile=PATH in the connection string for another file).",
        _ when NoLoginAnswer(ex, connection) is { } reason =>
            $"PostgreSQL at {Server(connection)} took the connection but {reason}: no statement ran. Check Host and Port in --connection " +
            "or JOBS_CONNECTION (a PostgreSQL server, not another service or a proxy or tunnel whose far end is down), its SSL Mode, " +
            "and that the server runs and accepts connections from this machine.",
        { InnerException: TimeoutException } when !ex.Message.StartsWith("Failed to connect", StringComparison.Ordinal) =>
            $"the database did not answer within the command timeout ({CommandTimeout.GivenSeconds ?? Builder(connection)?.CommandTimeout ?? 30} s): a lock another session holds, " +
            $"or an overloaded server. Its statement was cancelled; see jobs doctor for long transactions, or raise it with {CommandTimeout.Option} SECONDS (0: no limit)" +
            (CommandTimeout.Given ? "." : " or \"Command Timeout=SECONDS\" in --connection or JOBS_CONNECTION."),
        _ when ex.InnerException is SocketException or TimeoutException || ex.Message.StartsWith("Failed to connect", StringComparison.Ordinal) =>
            $"cannot reach PostgreSQL at {Server(connection)} ({Innermost(ex).Message.TrimEnd('.')}); check Host and Port in --connection or JOBS_CONNECTION, " +
            "and that the server runs and accepts connections from this machine.",
        { InnerException: IOException } =>
            $"the connection to PostgreSQL at {Server(connection)} broke ({Innermost(ex).Message.TrimEnd('.')}): check that the server runs and accepts " +
            "connections from this machine (a proxy or firewall may close them); a statement the tool sent may or may not have run (see jobs audit).",
        _ => Innermost(ex).Message.ReplaceLineEndings(" "),
    };

    /// <summary>
    /// The exit code of <paramref name="ex"/> (<see cref="ExitCodes"/>), by the same cases <see cref="Describe"/> tells apart:
    /// unreachable, timed out or broken, refused login or privilege, a schema without the tables or columns this tool uses.
    /// </summary>
    public static int ExitCode(NpgsqlException ex) => ex switch
    {
        PostgresException p => p.SqlState switch
        {
            PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification
                => ExitCodes.NoPermission,
            PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.UndefinedColumn => ExitCodes.SchemaRefused,
            PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections
                or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown => ExitCodes.Unavailable,
            PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.SerializationFailure
                or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.IdleSessionTimeout => ExitCodes.TryAgain,
            _ when p.SqlState.StartsWith("08", StringComparison.Ordinal) => ExitCodes.Unavailable,
            _ => ExitCodes.Failed,
        },
        _ when NoPasswordGiven(ex) => ExitCodes.NoPermission,
        _ when NoLoginAnswer(ex, connection: null) is not null => ExitCodes.Unavailable,
        { InnerException: TimeoutException } when !ex.Message.StartsWith("Failed to connect", StringComparison.Ordinal) => ExitCodes.TryAgain,
        _ when ex.InnerException is SocketException or TimeoutException || ex.Message.StartsWith("Failed to connect", StringComparison.Ordinal) => ExitCodes.Unavailable,
        { InnerException: IOException } => ExitCodes.TryAgain,
        _ => ExitCodes.Failed,
    };

    private static string Advice(PostgresException p, string? connection, string schema) => p.SqlState switch
    {
        PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
            ". Check Username and Password in --connection or JOBS_CONNECTION.",
        PostgresErrorCodes.InvalidCatalogName => ". Check Database in --connection or JOBS_CONNECTION.",
        PostgresErrorCodes.InsufficientPrivilege =>
            $". Role '{Builder(connection)?.Username ?? "?"}' lacks a privilege this command needs on schema '{schema}': grant it, or connect as the role that operates the jobs.",
        _ => ".",
    };

    /// <summary>
    /// The server asked for a password (its pg_hba.conf) and the connection string, PGPASSWORD and the password file gave
    /// none: Npgsql ends the login itself, before the server refused anything, so there is no SQLSTATE, only its message.
    /// </summary>
    private static bool NoPasswordGiven(NpgsqlException ex)
        => ex is not PostgresException && ex.Message.StartsWith("No password has been provided", StringComparison.Ordinal);

    /// <summary>
    /// What ended a login that never completed (no connection of this run logged in: <see cref="Login"/>) after the TCP
    /// connection was made: the server did not answer within the connection's <c>Timeout</c>, or closed the connection.
    /// Npgsql says so in the words of a statement ("Exception while reading from stream"), which told the operator to raise
    /// the command timeout, or that a statement may have run. <see langword="null"/> for any other failure.
    /// </summary>
    private static string? NoLoginAnswer(NpgsqlException ex, string? connection)
    {
        if (ex is PostgresException || Login.Completed || ex.Message.StartsWith("Failed to connect", StringComparison.Ordinal))
        {
            return null;
        }

        return ex.InnerException switch
        {
            TimeoutException => $"did not answer its login within the connection's Timeout ({Builder(connection)?.Timeout ?? 15} s; raise Timeout=SECONDS for a server slow to start sessions)",
            IOException => $"closed it during the login ({Innermost(ex).Message.TrimEnd('.')})",
            _ => null,
        };
    }

    private static string Server(string? connection) => Builder(connection) is { } b ? $"{b.Host}:{b.Port}" : "the configured host";

    /// <summary>The connection string given (or <c>JOBS_CONNECTION</c>), read; <see langword="null"/> when it cannot be.</summary>
    internal static NpgsqlConnectionStringBuilder? Builder(string? connection)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connection ?? Environment.GetEnvironmentVariable("JOBS_CONNECTION"));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is { } inner ? Innermost(inner) : ex;
}
