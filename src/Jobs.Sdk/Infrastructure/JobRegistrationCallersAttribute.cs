namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// Marks a generated <c>AddGeneratedJobs()</c> with the members of its assembly from which it is reached (an
/// <c>IServiceCollection</c> extension, a constructor, a property getter or any other method that does not take the
/// <c>JobsBuilder</c>, whose body calls it or, transitively, such a member of the assembly), by documentation comment id (<c>M:Billing.BillingServices.AddBillingJobs(Microsoft.Extensions.DependencyInjection.IServiceCollection)</c>).
/// Read by the Jobs.Sdk analyzers, which cannot read method bodies of referenced assemblies: a project calling one of
/// those members registers the assembly's handlers (JOBS025). Written by the generator; not meant for application code.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class JobRegistrationCallersAttribute(params string[] members) : Attribute
{
    /// <summary>The documentation comment ids of the members from which the marked method is reached.</summary>
    public IReadOnlyList<string> Members { get; } = members;
}
