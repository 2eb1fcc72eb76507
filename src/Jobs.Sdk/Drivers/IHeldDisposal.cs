namespace Jobs.Sdk.Drivers;

/// <summary>
/// A driver whose disposal closes what a worker still needs after its stop returned: a handler that ignored its token past
/// the stop runs on, and its lease is renewed, and its outcome recorded, through the driver's connections (PostgreSQL: the
/// data source <c>UsePostgres(connectionString)</c> built). The worker holds the disposal until that handler returns and its
/// outcome is written; the container's disposal of the driver is not held up, what it would close is closed then.
/// </summary>
internal interface IHeldDisposal
{
    /// <summary>Holds the closing of the driver's connections until the returned hold is disposed (once).</summary>
    IAsyncDisposable HoldDisposal();
}
