namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// Marks an assembly with its members from which another assembly's generated <c>AddGeneratedJobs()</c> is reached (a
/// <c>Platform</c> library's <c>services.AddPlatform()</c> calling Billing's <c>services.AddBillingJobs()</c>, a member
/// Billing's <c>[JobRegistrationCallers]</c> lists, or Billing's <c>AddGeneratedJobs()</c> as its friend), by documentation
/// comment id (<c>M:Platform.PlatformServices.AddPlatform(Microsoft.Extensions.DependencyInjection.IServiceCollection)</c>).
/// One per assembly reached. Read by the Jobs.Sdk analyzers, which cannot read method bodies of referenced assemblies: a
/// project calling one of those members registers the handlers of <see cref="Assembly"/> (JOBS025, JOBS001). Written by
/// the generator; not meant for application code.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
public sealed class JobRegistrationReachAttribute(string assembly, params string[] members) : Attribute
{
    /// <summary>The simple name of the assembly whose generated registration the members reach.</summary>
    public string Assembly { get; } = assembly;

    /// <summary>The documentation comment ids of the marked assembly's members from which that registration is reached.</summary>
    public IReadOnlyList<string> Members { get; } = members;
}
