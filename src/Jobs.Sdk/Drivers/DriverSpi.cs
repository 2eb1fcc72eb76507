namespace Jobs.Sdk.Drivers;

/// <summary>The diagnostic id and message of the experimental driver SPI (<c>Jobs.Sdk.Drivers</c> and <c>JobsBuilder.UseDriver</c>).</summary>
internal static class DriverSpi
{
    /// <summary>
    /// The diagnostic reported where code outside Jobs.Sdk uses the driver SPI. Driver packages and their tests suppress it
    /// in their project file (<c>&lt;NoWarn&gt;$(NoWarn);JOBSEXP001&lt;/NoWarn&gt;</c>).
    /// </summary>
    public const string DiagnosticId = "JOBSEXP001";

    /// <summary>Why the SPI is experimental.</summary>
    public const string Message =
        "The Jobs.Sdk driver SPI may change in any release while the drivers evolve. Application code should use JobQueue, UseInMemory and UsePostgres instead.";
}
