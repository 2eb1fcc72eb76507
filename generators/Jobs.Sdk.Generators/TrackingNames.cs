namespace Jobs.Sdk.Generators;

/// <summary>Names of the tracked pipeline steps (asserted by the incremental-caching tests).</summary>
internal static class TrackingNames
{
    public const string JobModels = nameof(JobModels);
    public const string Jobs = nameof(Jobs);
    public const string HintNameCollisions = nameof(HintNameCollisions);
    public const string Handlers = nameof(Handlers);
    public const string HandlerList = nameof(HandlerList);
    public const string JobNames = nameof(JobNames);
    public const string AssemblyName = nameof(AssemblyName);
    public const string RegistrationCallers = nameof(RegistrationCallers);
    public const string RegistrationCallerList = nameof(RegistrationCallerList);
    public const string Registration = nameof(Registration);
    public const string ExternalRegistrationCallers = nameof(ExternalRegistrationCallers);
    public const string RegistrationReach = nameof(RegistrationReach);
}
