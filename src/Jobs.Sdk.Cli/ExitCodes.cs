namespace Jobs.Sdk.Cli;

/// <summary>
/// The tool's exit codes, as README.md lists them: sysexits.h's where one fits, so a script can tell a command line to fix
/// from a database to wait for, a schema this tool refuses, missing rights, and a named thing that was not there.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>
    /// Not everything asked was done: a job id given did not change, the job, schedule entry or unique job named is not there,
    /// or the database refused a statement for a reason none of the codes below names.
    /// </summary>
    public const int Failed = 1;

    /// <summary>A check found a problem: <c>doctor</c>, <c>migrate --dry-run</c> with pending migrations.</summary>
    public const int Problem = 2;

    /// <summary>
    /// EX_USAGE: the command line cannot be used (an unknown command or option, a value the tool cannot read, a command given
    /// none of the arguments it needs, no connection given, a password file it cannot read); nothing ran.
    /// </summary>
    public const int Usage = 64;

    /// <summary>EX_UNAVAILABLE: PostgreSQL cannot be reached or does not take connections now (down, wrong host or port, no such database, starting up, full).</summary>
    public const int Unavailable = 69;

    /// <summary>EX_SOFTWARE: a failure the tool did not expect (a bug: the stack trace is printed).</summary>
    public const int Software = 70;

    /// <summary>
    /// EX_TEMPFAIL: the database did not answer within the command timeout (a lock, an overloaded server), a lock or
    /// serialization conflict, or the connection broke mid-command. Trying again later may succeed; a bulk action says how
    /// many jobs its committed batches changed.
    /// </summary>
    public const int TryAgain = 75;

    /// <summary>EX_NOPERM: the login was refused (password, role; no password given where the server asks for one) or the role lacks a privilege on the schema.</summary>
    public const int NoPermission = 77;

    /// <summary>
    /// EX_CONFIG: the schema refuses this tool: no job tables (not migrated, or another --schema), older than the tool
    /// (run <c>jobs migrate</c>), or migrated by a newer version this one cannot run against; nothing was changed.
    /// </summary>
    public const int SchemaRefused = 78;

    /// <summary>Stopped by Ctrl+C or SIGTERM (128 + SIGINT, as shells report Ctrl+C).</summary>
    public const int Interrupted = 130;
}
