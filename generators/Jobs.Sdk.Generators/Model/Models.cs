using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Shared;

namespace Jobs.Sdk.Generators.Model;

/// <summary>A type as the emitter sees it: kind, how to spell it, and its element for wrappers and collections.</summary>
/// <param name="Kind">The serializer's handling of the type.</param>
/// <param name="Fqn">The <c>global::</c>-qualified name with nullable annotations (for declarations).</param>
/// <param name="TypeOfName">The <c>global::</c>-qualified name without nullable reference annotations (for <c>typeof</c>).</param>
/// <param name="AllowsNull">JSON null is acceptable.</param>
/// <param name="IsValueType">The type is a value type.</param>
/// <param name="Element">The element (<c>Nullable</c> underlying, collection element, dictionary value).</param>
/// <param name="ObjectId">For <see cref="JsonTypeKind.Object"/>: the id of its <see cref="ObjectModel"/>; for <see cref="JsonTypeKind.Enum"/>: the id of its <see cref="EnumModel"/>.</param>
/// <param name="ContextIndex">For <see cref="JsonTypeKind.JsonContext"/>: the index of its <see cref="ContextTypeModel"/>.</param>
internal sealed record TypeModel(
    JsonTypeKind Kind,
    string Fqn,
    string TypeOfName,
    bool AllowsNull,
    bool IsValueType,
    TypeModel? Element,
    string? ObjectId,
    int ContextIndex);

/// <summary>One serialized member of an object.</summary>
/// <param name="Name">CLR property name.</param>
/// <param name="JsonName">JSON property name.</param>
/// <param name="Type">Member type.</param>
/// <param name="IsConstructorParameter">Read into the constructor.</param>
/// <param name="IsRequired">Missing from the payload is a decode error.</param>
/// <param name="IsRequiredProperty">A C# <c>required</c> property (set in the object initializer; when it is also
/// <c>[Obsolete(..., error: true)]</c>, the reader is marked obsolete so that naming it there is no error).</param>
/// <param name="IsInitOnly">Has an <c>init</c> accessor (set through an UnsafeAccessor when optional).</param>
/// <param name="DefaultValue">C# expression used when an optional constructor parameter is missing.</param>
/// <param name="DeclaringTypeFqn">The type declaring the property (UnsafeAccessor target).</param>
/// <param name="DeclaringTypeIsValueType">The declaring type is a struct.</param>
/// <param name="WriteCondition">When the member is left out of the payload (System.Text.Json's <c>JsonIgnoreCondition</c>).</param>
/// <param name="IsRead">Read from the payload (<see langword="false"/> for <c>[JsonIgnore]</c> and <c>Condition = WhenReading</c>: a constructor parameter then gets its default).</param>
/// <param name="NullLabel">How an <c>ArgumentNullException</c> names the member (<c>Type.Member</c>).</param>
/// <param name="GenericSetter">For an init-only property declared on a generic type (or one nested in a generic type): its generic accessor.</param>
/// <param name="AccessorGetterTarget">For a property marked <c>[Obsolete(..., error: true)]</c>, which generated code cannot name
/// (CS0619, no pragma silences it): the type declaring its getter, read (and its setter written) through an <c>[UnsafeAccessor]</c>.</param>
internal sealed record MemberModel(
    string Name,
    string JsonName,
    TypeModel Type,
    bool IsConstructorParameter,
    bool IsRequired,
    bool IsRequiredProperty,
    bool IsInitOnly,
    string DefaultValue,
    string DeclaringTypeFqn,
    bool DeclaringTypeIsValueType,
    MemberWriteCondition WriteCondition,
    bool IsRead,
    string NullLabel,
    GenericSetterModel? GenericSetter = null,
    string? AccessorGetterTarget = null);

/// <summary>
/// The <c>[UnsafeAccessor]</c> of an init-only property whose declaring type is generic. The runtime binds such an
/// accessor only when it is declared in a generic class with the same type parameters and constraints as the open
/// declaring type (a non-generic accessor naming the closed type fails with MissingMethodException or
/// InvalidProgramException on the first read), so the accessor is a generic class called with the closed type's arguments.
/// </summary>
/// <param name="TypeParameters">The open declaring type's type parameters, outermost containing type first (<c>&lt;T&gt;</c>).</param>
/// <param name="Constraints">Their constraint clauses (<c> where T : class</c>), or empty.</param>
/// <param name="TypeArguments">The closed type's arguments in the same order (<c>&lt;int&gt;</c>).</param>
/// <param name="TargetFqn">The open declaring type (<c>global::Ns.Base&lt;T&gt;</c>).</param>
/// <param name="ValueFqn">The property's type in terms of the type parameters.</param>
internal sealed record GenericSetterModel(string TypeParameters, string Constraints, string TypeArguments, string TargetFqn, string ValueFqn);

/// <summary>When a member is written (the subset of System.Text.Json's <c>JsonIgnoreCondition</c> that keeps a member).</summary>
internal enum MemberWriteCondition
{
    /// <summary>Always written.</summary>
    Always,
    /// <summary>Left out when <see langword="null"/>.</summary>
    WhenNotNull,
    /// <summary>Left out when equal to the type's default.</summary>
    WhenNotDefault,
    /// <summary>Never written (<c>[JsonIgnore]</c>, <c>Condition = WhenWriting</c>).</summary>
    Never,
}

/// <summary>A user class, record or struct serialized member by member.</summary>
/// <param name="Id">The object's id (names its generated reader and writer).</param>
/// <param name="Fqn">The <c>global::</c>-qualified name.</param>
/// <param name="DisplayName">The name used in messages (the type's simple name).</param>
/// <param name="IsValueType">The type is a struct.</param>
/// <param name="MayBeDerived">A class that is not sealed: the writer rejects instances of a derived type, whose own members it would drop.</param>
/// <param name="Members">The serialized members.</param>
internal sealed record ObjectModel(string Id, string Fqn, string DisplayName, bool IsValueType, bool MayBeDerived, EquatableArray<MemberModel> Members);

/// <summary>An enum written by name (one name per distinct value, declaration order).</summary>
/// <param name="Id">The enum's id.</param>
/// <param name="Fqn">The <c>global::</c>-qualified name.</param>
/// <param name="Members">The member names.</param>
/// <param name="Values">A C# expression for each member's value: the member itself, or a cast of its constant for a
/// member marked <c>[Obsolete(..., error: true)]</c>, which generated code cannot name (CS0619).</param>
internal sealed record EnumModel(string Id, string Fqn, EquatableArray<string> Members, EquatableArray<string> Values);

/// <summary>A type serialized through the job's JsonSerializerContext.</summary>
internal sealed record ContextTypeModel(int Index, string TypeOfName);

/// <summary>A parameter of the typed push overload (from the job's constructor).</summary>
/// <param name="CallerInfo">The constructor parameter's caller-info attributes (<c>[CallerMemberName]</c>, ...), spelled in
/// full with a trailing space, or empty: without them the compiler would fill the push caller's member, not the default.</param>
internal sealed record PushParameterModel(string Name, string Fqn, string? DefaultValue, string? Documentation, string CallerInfo);

/// <summary>An enclosing type declaration (for nested job types).</summary>
internal sealed record ContainingTypeModel(string Declaration);

/// <summary>
/// Everything the emitter needs for one <c>[Job]</c> type. Job-level settings read from <c>[Job]</c> sit next to
/// <see cref="MaxAttempts"/>; member-level roles (future key attributes) belong on <see cref="MemberModel"/>.
/// <see cref="DiagnosticIds"/>: the custom <c>[Obsolete]</c> and <c>[Experimental]</c> ids the generated file silences.
/// </summary>
internal sealed record JobModel(
    string? Namespace,
    string TypeName,
    string Fqn,
    string TypeOfName,
    string HintName,
    string Declaration,
    EquatableArray<ContainingTypeModel> ContainingTypes,
    string? ExtensionAccessibility,
    string ExtensionClassName,
    string JobName,
    int MaxAttempts,
    int TimeoutSeconds,
    string? ContextFqn,
    EquatableArray<ContextTypeModel> ContextTypes,
    string RootObjectId,
    EquatableArray<ObjectModel> Objects,
    EquatableArray<EnumModel> Enums,
    bool HasPushConstructor,
    EquatableArray<PushParameterModel> PushParameters,
    string? Summary,
    bool HasObliviousNullability,
    string HelperClassName,
    JobFlowModel Flow,
    EquatableArray<string> DiagnosticIds);

/// <summary>Queue and flow-control settings of a job type (<c>Queue</c>, <c>Unique</c>, <c>UniqueFor</c>, <c>ConcurrencyLimit</c>, key members).</summary>
/// <param name="Queue">The default queue, or <see langword="null"/>.</param>
/// <param name="Unique">Pushes are unique by key.</param>
/// <param name="UniqueFor">Seconds the key holds after the job finished.</param>
/// <param name="UniqueKeys">C# expressions (over <c>job</c>) giving each <c>[UniqueKey]</c> member's key text, in order.</param>
/// <param name="ConcurrencyLimit">Jobs of one concurrency key running at once (0: no limit).</param>
/// <param name="ConcurrencyKeys">C# expressions (over <c>job</c>) giving each <c>[ConcurrencyKey]</c> member's key text, in order.</param>
/// <param name="UniqueKeysNameObsoleteError">Some <c>[UniqueKey]</c> member is <c>[Obsolete(..., error: true)]</c>:
/// <c>GetUniqueKey</c> is marked obsolete itself, so naming it there is no error (CS0619).</param>
/// <param name="ConcurrencyKeysNameObsoleteError">The same for a <c>[ConcurrencyKey]</c> member and <c>GetConcurrencyKey</c>.</param>
internal sealed record JobFlowModel(string? Queue, bool Unique, int UniqueFor, EquatableArray<string> UniqueKeys, int ConcurrencyLimit,
    EquatableArray<string> ConcurrencyKeys, bool UniqueKeysNameObsoleteError, bool ConcurrencyKeysNameObsoleteError);

/// <summary>A non-abstract class implementing <c>IJobHandler&lt;TJob&gt;</c> in this assembly.</summary>
/// <param name="DiagnosticIds">The custom <c>[Obsolete]</c> and <c>[Experimental]</c> ids of the handler and job types (the registration silences them).</param>
internal sealed record HandlerModel(string HandlerTypeOfName, string JobTypeOfName, bool JobIsLocal, EquatableArray<string> DiagnosticIds);

/// <summary>The assembly-wide registration: jobs generated here and the handlers found here.</summary>
/// <param name="ClassName">The assembly-specific class name.</param>
/// <param name="LocalJobs">The job types generated in this assembly.</param>
/// <param name="Handlers">The handlers found in this assembly.</param>
/// <param name="YieldsToFriends">
/// The assembly grants <c>InternalsVisibleTo</c>: its <c>AddGeneratedJobs</c> takes an optional parameter so a friend
/// assembly's own <c>AddGeneratedJobs</c> (without one) wins overload resolution instead of being ambiguous (CS0121).
/// </param>
/// <param name="Callers">
/// The documentation comment ids of this assembly's methods, constructors and property getters, callable from other assemblies,
/// from which <c>AddGeneratedJobs</c> is reached: their bodies call it or, transitively, call such a member of this assembly
/// (written on it for JOBS025, which cannot read the bodies of referenced assemblies).
/// </param>
internal sealed record RegistrationModel(string ClassName, EquatableArray<string> LocalJobs, EquatableArray<HandlerModel> Handlers, bool YieldsToFriends,
    EquatableArray<string> Callers);

/// <summary>The assembly facts the registration needs (equatable, so unrelated edits stay cached).</summary>
internal sealed record AssemblyModel(string? Name, bool GrantsInternalsVisibleTo, EquatableArray<string> TypeNamesInRegistrationNamespace);

/// <summary>The simple names one source file mentions (its path and the names, ordered): which files may call a member by its name.</summary>
/// <param name="Path">The file's path (<c>SyntaxTree.FilePath</c>).</param>
/// <param name="Names">The identifiers of its simple names, distinct and in ordinal order, and <c>.ctor</c> when it creates an object
/// without naming its type or chains a constructor.</param>
/// <param name="Aliases">The names its <c>using</c> aliases declare (<c>using W = Lib.Wiring;</c>), ordered: a call through one may name any type.</param>
internal sealed record TreeCallNames(string Path, EquatableArray<string> Names, EquatableArray<string> Aliases);

/// <summary>
/// A member of a referenced assembly from which an assembly's generated <c>AddGeneratedJobs()</c> is reached, as that
/// assembly's metadata says (its <c>[JobRegistrationCallers]</c>, its <c>[assembly: JobRegistrationReach]</c>, or the
/// generated registration itself): a call of it in this assembly reaches <paramref name="Target"/>'s registration.
/// </summary>
/// <param name="Library">The simple name of the referenced assembly that declares the member.</param>
/// <param name="Target">The simple name of the assembly whose registration the member reaches.</param>
/// <param name="Member">The member's documentation comment id.</param>
internal sealed record ExternalRegistrationCaller(string Library, string Target, string Member);

/// <summary>This assembly's members, callable outside it, from which <paramref name="Target"/>'s registration is reached (ordered ids).</summary>
internal sealed record RegistrationReachModel(string Target, EquatableArray<string> Members);
