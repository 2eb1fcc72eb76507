using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A statement that puts finished unique jobs back (an operator's retry, a cleanup rerun: <see cref="UniqueRetrySql"/>)
/// decides from its snapshot whether a released key is free. A push of the key that committed after that snapshot was
/// taken, or had not committed yet when the statement gave the key back, is not seen: the unique index then refuses the
/// key (23505 on <see cref="IndexName"/>) once that push commits. The statement is its own transaction, so it changed
/// nothing; run again, its new snapshot sees the pushed job holding the key and leaves the finished job as it was, as
/// the promise (one job of a key in line) wants. Without this the whole action failed with a duplicate-key error.
/// </summary>
internal static class UniqueKeyRace
{
    /// <summary>The partial unique index that holds unique keys (<c>MigrationScripts.UniqueJobs</c>).</summary>
    public const string IndexName = "jobs_unique_key_idx";

    /// <summary>How many times a put-back statement runs before its refusal is thrown (each time a new push of a key it gave back won).</summary>
    public const int Attempts = 5;

    /// <summary>Whether <paramref name="error"/> is a put-back's key taken by a push it could not see, and attempt <paramref name="attempt"/> may run again.</summary>
    public static bool Lost(Exception error, int attempt) =>
        attempt < Attempts && error is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: IndexName };

    /// <summary>Runs <paramref name="putBack"/> (one statement, its own transaction) again while it lost its key to a push it could not see.</summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> putBack)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await putBack().ConfigureAwait(false);
            }
            catch (PostgresException e) when (Lost(e, attempt))
            {
                // Asked again below: the pushed job is committed now, so the new snapshot sees it.
            }
        }
    }
}
