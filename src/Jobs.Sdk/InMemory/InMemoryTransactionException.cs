using System.Data.Common;

namespace Jobs.Sdk.InMemory;

/// <summary>
/// What the in-memory driver throws where PostgreSQL fails a push in an ambient transaction with an error of its own, in
/// the shape the PostgreSQL driver surfaces it (Npgsql's <c>PostgresException</c> is a <see cref="DbException"/>): the
/// same <see cref="SqlState"/> and <see cref="IsTransient"/>, so code that catches <see cref="DbException"/> by its
/// <see cref="SqlState"/> (40P01 deadlock_detected, 25P02 in_failed_sql_transaction), or a retry policy for transient
/// database errors, sees the error it will see in production.
/// </summary>
internal sealed class InMemoryTransactionException : DbException
{
    /// <summary>PostgreSQL's deadlock_detected.</summary>
    public const string DeadlockDetected = "40P01";

    /// <summary>PostgreSQL's in_failed_sql_transaction.</summary>
    public const string InFailedTransaction = "25P02";

    private InMemoryTransactionException(string sqlState, string message) : base(message) => SqlState = sqlState;

    /// <inheritdoc />
    public override string SqlState { get; }

    /// <inheritdoc />
    /// <remarks>A deadlock is (running the transaction again may succeed), as Npgsql says of 40P01.</remarks>
    public override bool IsTransient => SqlState == DeadlockDetected;

    /// <summary>The push that closed a cycle of transactions waiting for each other's keys, waiting for <paramref name="what"/>.</summary>
    public static InMemoryTransactionException Deadlock(string what) => new(DeadlockDetected,
        $"{DeadlockDetected}: deadlock detected: this push waits for {what}, which another open transaction (TransactionScope) holds, "
        + "while that transaction waits (directly or through others) for a key this one holds. As PostgreSQL does, one of the two is aborted: this "
        + "one, whose pushes are undone and which can push nothing more; the other goes on. Dispose the scope and run the transaction again "
        + "(the error is transient), or push the keys in the same order in every transaction.");

    /// <summary>A push in a transaction a deadlock aborted.</summary>
    public static InMemoryTransactionException Aborted() => new(InFailedTransaction,
        $"{InFailedTransaction}: current transaction is aborted: an earlier push in this ambient transaction (TransactionScope) failed with a deadlock "
        + $"({DeadlockDetected}), which undid its pushes; it stores nothing more, even if completed. Dispose the scope and run the transaction again.");
}
