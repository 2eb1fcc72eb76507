using System.Transactions;

namespace Jobs.Sdk;

/// <summary>
/// Keeps the SDK's own work out of the caller's ambient <see cref="Transaction"/> (a <see cref="TransactionScope"/> with
/// <see cref="TransactionScopeAsyncFlowOption.Enabled"/> flows into every task started under it): a driver connection
/// opened inside one would enlist in it (Npgsql's <c>Enlist=true</c>, the default). Only pushes join an ambient
/// transaction, as a push given the transaction does. (The worker's, scheduler's and presence reporter's loops start
/// without the caller's execution context, <see cref="DetachedContext"/>, so no scope flows into them or their handlers.)
/// </summary>
internal static class AmbientTransactions
{
    /// <summary>
    /// Hides the ambient transaction until disposed (null when there is none: nothing to hide, nothing allocated). Safe
    /// across awaits of the method that holds it.
    /// </summary>
    public static TransactionScope? Suppress() =>
        Transaction.Current is null ? null : new TransactionScope(TransactionScopeOption.Suppress, TransactionScopeAsyncFlowOption.Enabled);
}
