namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// Marks a generated method that pushes jobs of <see cref="JobType"/>. Read by the Jobs.Sdk analyzers
/// (unregistered-job detection); not meant for application code.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class JobPushMethodAttribute(Type jobType) : Attribute
{
    /// <summary>The job type the method pushes.</summary>
    public Type JobType { get; } = jobType;
}

/// <summary>
/// Marks a generated method that registers handlers for <see cref="JobTypes"/> (a generated <c>Add{Job}</c> method or
/// <c>AddGeneratedJobs</c>). Read by the Jobs.Sdk analyzers; not meant for application code.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class JobRegistrationMethodAttribute(params Type[] jobTypes) : Attribute
{
    /// <summary>The job types the method registers handlers for.</summary>
    public IReadOnlyList<Type> JobTypes { get; } = jobTypes;
}
