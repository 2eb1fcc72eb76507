using System.Transactions;

namespace Jobs.Sdk;

/// <summary>
/// Keeps the SDK's own work out of the caller's ambient <see cref="Transaction"/> (a <see cref="TransactionScope"/> with
/// <see cref="TransactionScopeAsyncFlowOption.Enabled"/> flows into every task started under it): a worker, scheduler or
/// presence loop started by code inside a scope would otherwise run its handlers in that scope's transaction, and a driver
/// connection opened inside one would enlist in it (Npgsql's <c>Enlist=true</c>, the default). Only pushes join an
/// ambient transaction, as a push given the transaction does.
/// </summary>
internal static class AmbientTransactions
{
    /// <summary>
    /// Hides the ambient transaction until disposed (null when there is none: nothing to hide, nothing allocated). Safe
    /// across awaits of the method that holds it.
    /// </summary>
    public static TransactionScope? Suppress() =>
        Transaction.Current is null ? null : new TransactionScope(TransactionScopeOption.Suppress, TransactionScopeAsyncFlowOption.Enabled);

    /// <summary><see cref="Task.Run(Func{Task}, CancellationToken)"/> of a long-running loop of the SDK, without the caller's ambient transaction.</summary>
    public static Task Run(Func<Task> loop)
    {
        using var suppressed = Suppress();
        return Task.Run(loop, CancellationToken.None);
    }
}
