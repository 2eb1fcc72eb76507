namespace Jobs.Sdk;

/// <summary>
/// Marks a member of a <see cref="JobAttribute.Unique"/> job as part of its unique key (all marked members, in
/// declaration order). On a record's primary-constructor parameter write <c>[property: UniqueKey]</c>. Supported member
/// types: <see cref="string"/>, <see cref="Guid"/>, <see cref="bool"/>, <see cref="char"/>, integer types, enums,
/// <see cref="DateTime"/>, <see cref="DateTimeOffset"/>, <see cref="DateOnly"/>, <see cref="TimeOnly"/> and their nullable
/// forms; anything else is a compile-time error (JOBS021).
/// </summary>
/// <example>
/// <code>
/// [Job("sync-account", Unique = true, UniqueFor = 3600)]
/// public partial record SyncAccount([property: UniqueKey] Guid AccountId, DateTimeOffset RequestedAt);
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class UniqueKeyAttribute : Attribute;
