namespace Jobs.Sdk.Drivers;

/// <summary>
/// A store whose pushes given no transaction join the caller's ambient <see cref="System.Transactions.Transaction"/> (a
/// <see cref="System.Transactions.TransactionScope"/>): such a push is stored only if that transaction commits, so
/// <c>jobs.pushed</c> counts it at the commit (<see cref="PushTelemetry"/>). A driver without it is counted at the push.
/// </summary>
internal interface IAmbientTransactionPushes
{
    /// <summary>Whether a push given no transaction now joins the current ambient transaction (false when there is none).</summary>
    bool JoinsAmbientTransaction { get; }
}
