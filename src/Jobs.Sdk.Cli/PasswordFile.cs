namespace Jobs.Sdk.Cli;

/// <summary>
/// A password file named by the connection string (<c>Passfile=</c>) or <c>PGPASSFILE</c> that cannot be read: Npgsql
/// opens it when the server asks for a password and lets the file system's exception through, which the tool reported as
/// a bug of its own (exit 70, a stack trace). <c>Passfile=~/.pgpass</c> is the likely one: no shell expands that <c>~</c>.
/// </summary>
internal static class PasswordFile
{
    /// <summary>The error line for <paramref name="ex"/> when it is the password file's, else <see langword="null"/>.</summary>
    public static string? Describe(Exception ex, string? connection)
    {
        if (ex is not (FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or PathTooLongException)
            || (DatabaseError.Builder(connection)?.Passfile ?? Environment.GetEnvironmentVariable("PGPASSFILE")) is not { Length: > 0 } passfile)
        {
            return null;
        }

        return $"the password file '{passfile}' (Passfile= in --connection or JOBS_CONNECTION, or PGPASSFILE) cannot be read: {ex.Message} " +
            "Give its full path (a ~ in it is not expanded), or give the password with Password=... or PGPASSWORD instead.";
    }
}
