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
        "Job type cannot be abstract or static",
        "Job type '{0}' cannot be {1}: workers create it from its JSON payload",
        DiagnosticSeverity.Error,
        "Workers deserialize jobs into the [Job] type itself, so it must be a concrete, instantiable class, record or struct.");

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
        "When set, MaxAttempts must be at least 1 and TimeoutSeconds must be greater than 0. Leave them unset to use the queue's defaults.");

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

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, string description, params string[] tags)
        => new(id, title, message, Category, severity, isEnabledByDefault: true, description: description,
            helpLinkUri: null, customTags: tags); // no public site yet: DIAGNOSTICS.md ships at the root of the Jobs.Sdk package
}
