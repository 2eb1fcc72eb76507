namespace Jobs.Sdk.Generators.Shared;

/// <summary>
/// Metadata names the generator and the analyzers agree on. Shared by file link with <c>Jobs.Sdk.Analyzers</c>:
/// keep this file free of dependencies on anything else in the generator project.
/// </summary>
internal static class KnownNames
{
    public const string JobAttribute = "Jobs.Sdk.JobAttribute";
    public const string JobAttributeMaxAttempts = "MaxAttempts";
    public const string JobAttributeTimeoutSeconds = "TimeoutSeconds";
    public const string JobAttributeJsonContext = "JsonContext";
    public const string JobAttributeQueue = "Queue";
    public const string JobAttributeUnique = "Unique";
    public const string JobAttributeUniqueFor = "UniqueFor";
    public const string UniqueKeyAttribute = "Jobs.Sdk.UniqueKeyAttribute";
    public const string JobAttributeConcurrencyLimit = "ConcurrencyLimit";
    public const string ConcurrencyKeyAttribute = "Jobs.Sdk.ConcurrencyKeyAttribute";

    public const string JobInterface = "Jobs.Sdk.IJob`1";
    public const string JobHandlerInterface = "Jobs.Sdk.IJobHandler`1";
    public const string JobQueue = "Jobs.Sdk.JobQueue";
    public const string JobsBuilder = "Jobs.Sdk.JobsBuilder";
    public const string JobPushMethodAttribute = "Jobs.Sdk.Infrastructure.JobPushMethodAttribute";
    public const string JobRegistrationMethodAttribute = "Jobs.Sdk.Infrastructure.JobRegistrationMethodAttribute";
    public const string JobRegistrationCallersAttribute = "Jobs.Sdk.Infrastructure.JobRegistrationCallersAttribute";
    public const string JobRegistrationReachAttribute = "Jobs.Sdk.Infrastructure.JobRegistrationReachAttribute";

    public const string JsonSerializerContext = "System.Text.Json.Serialization.JsonSerializerContext";
    public const string JsonPropertyNameAttribute = "System.Text.Json.Serialization.JsonPropertyNameAttribute";
    public const string JsonIgnoreAttribute = "System.Text.Json.Serialization.JsonIgnoreAttribute";
    public const string JsonConstructorAttribute = "System.Text.Json.Serialization.JsonConstructorAttribute";
    public const string JsonRequiredAttribute = "System.Text.Json.Serialization.JsonRequiredAttribute";
    public const string JsonIncludeAttribute = "System.Text.Json.Serialization.JsonIncludeAttribute";
    public const string JsonConverterAttribute = "System.Text.Json.Serialization.JsonConverterAttribute";
    public const string JsonNumberHandlingAttribute = "System.Text.Json.Serialization.JsonNumberHandlingAttribute";
    public const string JsonExtensionDataAttribute = "System.Text.Json.Serialization.JsonExtensionDataAttribute";
    public const string JsonPolymorphicAttribute = "System.Text.Json.Serialization.JsonPolymorphicAttribute";
    public const string JsonDerivedTypeAttribute = "System.Text.Json.Serialization.JsonDerivedTypeAttribute";
    public const string JsonStringEnumMemberNameAttribute = "System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute";
    public const string JsonStringEnumConverter = "System.Text.Json.Serialization.JsonStringEnumConverter";
    public const string SetsRequiredMembersAttribute = "System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute";

    /// <summary>Generated push methods are named <c>Push{Type}Async</c>.</summary>
    public static string PushMethodName(string typeName) => "Push" + typeName + "Async";

    /// <summary>Generated registration methods are named <c>Add{Type}</c>.</summary>
    public static string AddMethodName(string typeName) => "Add" + typeName;

    /// <summary>The assembly-wide registration method (internal, one per assembly).</summary>
    public const string AddGeneratedJobsMethodName = "AddGeneratedJobs";

    /// <summary>
    /// The namespace of the class declaring <see cref="AddGeneratedJobsMethodName"/> (JOBS025 reads a referenced library's
    /// registration there).
    /// </summary>
    public const string RegistrationNamespace = "Microsoft.Extensions.DependencyInjection";
}
