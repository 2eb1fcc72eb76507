using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers;

/// <summary>Every diagnostic the Jobs.Sdk analyzers report. Documented in DIAGNOSTICS.md (one section per id).</summary>
internal static class Descriptors
{
    private const string Category = "Jobs.Sdk";

    /// <summary>The <c>.editorconfig</c> key listing jobs handled by another service (silences JOBS001 for them).</summary>
    public const string ExternalJobsOption = "jobs_sdk.external_jobs";

    public static readonly DiagnosticDescriptor UnregisteredJob = Create(
        DiagnosticIds.UnregisteredJob,
        "Job is pushed but no handler is registered",
        "Job '{0}' ({1}) is pushed here, but this project runs workers (AddWorkers) and registers no handler for it; register one (e.g. jobs.AddJob<{1}, THandler>()) or, if another service handles it, list it in '" + ExternalJobsOption + "' in .editorconfig",
        DiagnosticSeverity.Warning,
        "A project that runs workers pushes a job for which no handler is registered in that project (AddJob, a generated Add{Job} method or AddGeneratedJobs). Workers that pick the job up fail it with 'no handler'.",
        WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor UncalledLibraryRegistration = Create(
        DiagnosticIds.UncalledLibraryRegistration,
        "A referenced library's job handlers are never registered",
        "Library '{0}' handles {1}, but this project runs workers (AddWorkers) and never calls the library's JobsBuilder registration, so no worker here claims them: they wait, queued; {2} (or, if another service runs them, list them in '" + ExternalJobsOption + "' in .editorconfig)",
        DiagnosticSeverity.Warning,
        "A referenced library declares job handlers, registered by its generated AddGeneratedJobs() (internal to it, so the library exposes it through a JobsBuilder extension method), but this project runs workers and calls none of the library's JobsBuilder methods, nor a member of it whose body calls AddGeneratedJobs() (an IServiceCollection extension, a constructor: the generator lists those on AddGeneratedJobs). Its jobs then wait, queued, until another service's workers run them (warning 1090 after UnhandledJobWarningAfter).",
        WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor DuplicateRegistration = Create(
        DiagnosticIds.DuplicateRegistration,
        "Job handler is registered twice",
        "A handler for job '{0}' is already registered on this JobsBuilder (line {1}); AddJobs throws when a job is registered twice",
        DiagnosticSeverity.Warning,
        "The same job is registered twice on one JobsBuilder. JobsBuilder throws InvalidOperationException at startup.");

    public static readonly DiagnosticDescriptor DuplicateJobName = Create(
        DiagnosticIds.DuplicateJobName,
        "Two job types use the same job name",
        "Job name '{0}' of '{1}' is also used by '{2}'; job names must be unique",
        DiagnosticSeverity.Error,
        "The job name is the stable key stored with every queued job and used to find its handler, so it must be unique.",
        WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor JobTypeNotPartial = Create(
        DiagnosticIds.JobTypeNotPartial,
        "Job type must be partial",
        "'{0}' must be declared partial: {1}",
        DiagnosticSeverity.Error,
        "The Jobs.Sdk generator adds the IJob<T> implementation to the job type, so the job type and every type containing it must be partial.");

    public static readonly DiagnosticDescriptor GenericJobType = Create(
        DiagnosticIds.GenericJobType,
        "Job type cannot be generic",
        "Job type '{0}' cannot be generic or nested in a generic type: a job name identifies exactly one closed type",
        DiagnosticSeverity.Error,
        "A job name maps to exactly one type; declare one non-generic job type per job.");

    public static readonly DiagnosticDescriptor AbstractJobType = Create(
        DiagnosticIds.AbstractJobType,
        "Job type cannot be abstract, static, file-local or a ref struct",
        "Job type '{0}' cannot be {1}: {2}",
        DiagnosticSeverity.Error,
        "Workers deserialize jobs into the [Job] type itself, so it must be a concrete, instantiable class, record or struct; the generator completes it in another file, so it cannot be file-local (or nested in a file-local type); and a ref struct cannot be a type argument of IJob<T>.");

    public static readonly DiagnosticDescriptor InvalidJobName = Create(
        DiagnosticIds.InvalidJobName,
        "Invalid job name",
        "Job name {0} is invalid: {1}",
        DiagnosticSeverity.Error,
        "Job names are stored with every queued job: 1 to 255 characters, not only whitespace, no control characters.");

    public static readonly DiagnosticDescriptor InvalidAttributeSetting = Create(
        DiagnosticIds.InvalidAttributeSetting,
        "Invalid MaxAttempts or TimeoutSeconds",
        "{0} = {1} is invalid: {2}",
        DiagnosticSeverity.Error,
        "When set, MaxAttempts must be at least 1 and TimeoutSeconds must be from 1 to 4294967 (the longest timeout a CancellationTokenSource accepts). Leave them unset to use the queue's defaults.");

    public static readonly DiagnosticDescriptor InvalidFlowSetting = Create(
        DiagnosticIds.InvalidFlowSetting,
        "Invalid queue or unique-job setting",
        "{0} is invalid: {1}",
        DiagnosticSeverity.Error,
        "UniqueFor (seconds a unique key holds after the job finished) and [UniqueKey] members need Unique = true, and UniqueFor must not be negative; Queue, when set, must be a non-empty name without NUL characters and at most 1,000 bytes of UTF-8 (PostgreSQL indexes it; a push to a longer name throws at run time).");

    public static readonly DiagnosticDescriptor UnsupportedKeyMember = Create(
        DiagnosticIds.UnsupportedKeyMember,
        "Key member of an unsupported type",
        "[{0}] member '{1}' has type '{2}', which cannot be a key: use string, Guid, bool, char, an integer type, an enum, DateTime, DateTimeOffset, DateOnly or TimeOnly (or a nullable of those)",
        DiagnosticSeverity.Error,
        "Generated code turns key members into exact, culture-invariant text. Floating-point numbers, collections and objects have no such text; mark a member of a supported type instead, or pass the key per push (JobOptions.UniqueKey, JobOptions.ConcurrencyKey).");

    public static readonly DiagnosticDescriptor InvalidConcurrencyLimit = Create(
        DiagnosticIds.InvalidConcurrencyLimit,
        "Invalid ConcurrencyLimit",
        "ConcurrencyLimit = {0} is invalid: it must be at least 1 (leave it unset for no limit)",
        DiagnosticSeverity.Error,
        "ConcurrencyLimit is how many jobs with the same concurrency key may run at once; 0 or a negative value would never run them. Leave it unset for no limit.");

    public static readonly DiagnosticDescriptor ConcurrencyKeyWithoutLimit = Create(
        DiagnosticIds.ConcurrencyKeyWithoutLimit,
        "Concurrency key member without a ConcurrencyLimit",
        "[ConcurrencyKey] member '{0}' has no effect: '{1}' sets no ConcurrencyLimit on [Job]",
        DiagnosticSeverity.Error,
        "A concurrency key only limits jobs of a type that sets ConcurrencyLimit (for example [Job(\"import-file\", ConcurrencyLimit = 1)]). Set the limit, or remove the attribute.");

    public static readonly DiagnosticDescriptor HandlerForNonJob = Create(
        DiagnosticIds.HandlerForNonJob,
        "Handler for a type that is not a job",
        "'{0}' implements IJobHandler<{1}>, but '{1}' is not a job: mark it [Job(\"name\")] (or implement IJob<{1}>)",
        DiagnosticSeverity.Error,
        "A handler can only be registered for a job type: a [Job] type, or a type that implements IJob<T> by hand.");

    public static readonly DiagnosticDescriptor UnsupportedMemberType = Create(
        DiagnosticIds.UnsupportedMemberType,
        "Job cannot be serialized by the generated serializer",
        "Job '{0}' cannot be serialized by the generated serializer: {1}: {2}",
        DiagnosticSeverity.Error,
        "The generated job serializer handles primitives, strings, enums, common value types (Guid, DateTimeOffset, TimeSpan, ...), arrays, lists, sets, dictionaries with string keys and classes, records and structs built from those. Anything else needs a JsonSerializerContext named with [Job(..., JsonContext = typeof(...))].");

    public static readonly DiagnosticDescriptor HandlerIgnoresCancellation = Create(
        DiagnosticIds.HandlerIgnoresCancellation,
        "Forward the job's CancellationToken",
        "Forward the handler's CancellationToken '{0}' to '{1}' so job timeouts, cancellation and shutdown stop it",
        DiagnosticSeverity.Info,
        "The token passed to HandleAsync is cancelled on timeout, user cancellation, lease loss and shutdown. Calls that accept a CancellationToken should receive it.");

    public static readonly DiagnosticDescriptor DuplicateJsonName = Create(
        DiagnosticIds.DuplicateJsonName,
        "Two members map to the same JSON property name",
        "Job '{0}': {1}; rename one or give it a distinct [JsonPropertyName]",
        DiagnosticSeverity.Error,
        "Member names are written camelCase (or as [JsonPropertyName] says). Two members with the same JSON name would write duplicate keys and mix up their values on read, so the generator emits nothing for the job (System.Text.Json throws for the same case).");

    public static readonly DiagnosticDescriptor UnserializedMember = Create(
        DiagnosticIds.UnserializedMember,
        "Member is not carried by the job payload",
        "'{0}' is not carried by job '{1}': {2}; a worker sees its default value (mark it [JsonIgnore] if that is intended)",
        DiagnosticSeverity.Warning,
        "The generated serializer writes public properties that a worker can set again: constructor parameters and properties with a public set or init accessor. A property with a non-public setter or getter, a get-only auto-property no constructor parameter sets, a public field, or non-public state (a private field or auto-property) would silently come back with its default.");

    public static readonly DiagnosticDescriptor ContextRoundTrip = Create(
        DiagnosticIds.ContextRoundTrip,
        "A member serialized through the JsonContext would not reach the handler as pushed",
        "Job '{0}': {1} goes through the JsonSerializerContext, but {2}",
        DiagnosticSeverity.Error,
        "Members of types the generated serializer does not handle go through the JsonSerializerContext named with [Job(..., JsonContext = typeof(...))]. For some of them System.Text.Json writes something it cannot read back as the pushed value: an 'object' comes back as a JsonElement, an interface or abstract class without [JsonPolymorphic]/[JsonDerivedType] is written with the declared type's properties only and cannot be created when reading (every such job fails to decode on the worker), and a BigInteger (no built-in converter) comes back as 0. The generator emits nothing for the job.");

    public static readonly DiagnosticDescriptor UnsupportedJsonAttribute = Create(
        DiagnosticIds.UnsupportedJsonAttribute,
        "System.Text.Json attribute is not honoured by the generated serializer",
        "Job '{0}': {1}",
        DiagnosticSeverity.Error,
        "The generated serializer honours [JsonPropertyName], [JsonIgnore], [JsonRequired] and [JsonConstructor]. [JsonConverter], [JsonNumberHandling] and [JsonExtensionData] on a member, and [JsonInclude] on a member it does not carry, would silently change or drop the member's data, so the generator emits nothing for the job.");

    public static readonly DiagnosticDescriptor GeneratedMethodNameCollision = Create(
        DiagnosticIds.GeneratedMethodNameCollision,
        "Generated method name is hidden by a built-in member",
        "The generated '{0}' for job type '{1}' has the same name as {2}, which wins over the extension method: calls would silently run the built-in one; rename the job type",
        DiagnosticSeverity.Error,
        "The generator adds Push{Type}Async to JobQueue and Add{Type} to JobsBuilder as extension methods. An instance member with the same name is chosen first by C#, so the typed method would never be called.");

    public static readonly DiagnosticDescriptor UnorderedUniquePayload = Create(
        DiagnosticIds.UnorderedUniquePayload,
        "The whole payload is the unique key, but a member's order is not stable",
        "The whole payload is the unique key of '{0}' (it marks no [UniqueKey] member), but the order of member '{1}' is not stable: {2}; two pushes of the same job can get two keys and two jobs; mark the members that identify the job with [UniqueKey]",
        DiagnosticSeverity.Warning,
        "A Unique job that marks no [UniqueKey] member is keyed by a hash of its payload bytes. The generated writer sorts dictionaries by key and sets of numbers, strings, Guids, enums, dates and times, so their fill order does not matter; it cannot order a set of objects (or of other types without a natural order), nor a dictionary or set inside a value written by the job's JsonSerializerContext (System.Text.Json sorts nothing), nor judge object, interfaces, converters or polymorphic types there. Two pushers of the same content may then write different bytes and store two jobs.");

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, string description, params string[] tags)
        => new(id, title, message, Category, severity, isEnabledByDefault: true, description: description,
            helpLinkUri: null, customTags: tags); // no public site yet: DIAGNOSTICS.md ships at the root of the Jobs.Sdk package
}
