namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// Marks a generated <c>AddGeneratedJobs()</c> with the members of its assembly whose bodies call it (an
/// <c>IServiceCollection</c> extension, a constructor or any other method that does not take the <c>JobsBuilder</c>), by
/// documentation comment id (<c>M:Billing.BillingServices.AddBillingJobs(Microsoft.Extensions.DependencyInjection.IServiceCollection)</c>).
/// Read by the Jobs.Sdk analyzers, which cannot read method bodies of referenced assemblies: a project calling one of
/// those members registers the assembly's handlers (JOBS025). Written by the generator; not meant for application code.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class JobRegistrationCallersAttribute(params string[] members) : Attribute
{
    /// <summary>The documentation comment ids of the members whose bodies call the marked method.</summary>
    public IReadOnlyList<string> Members { get; } = members;
}
