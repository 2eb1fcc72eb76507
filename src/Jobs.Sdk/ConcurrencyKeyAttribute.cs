namespace Jobs.Sdk;

/// <summary>
/// Marks a member of a job with a <see cref="JobAttribute.ConcurrencyLimit"/> as part of its concurrency key (all marked
/// members, in declaration order; the key is the job name, a colon, then the members' text). On a record's
/// primary-constructor parameter write <c>[property: ConcurrencyKey]</c>. Supported member types are those of
/// <see cref="UniqueKeyAttribute"/>; anything else is a compile-time error (JOBS021), and so is a marked member on a job
/// type without <see cref="JobAttribute.ConcurrencyLimit"/> (JOBS023).
/// </summary>
/// <example>
/// <code>
/// [Job("import-file", ConcurrencyLimit = 1)]
/// public partial record ImportFile([property: ConcurrencyKey] string TenantId, string Path);
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class ConcurrencyKeyAttribute : Attribute;
