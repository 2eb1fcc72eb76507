namespace Jobs.Sdk.Analyzers;

/// <summary>Stable diagnostic ids of the Jobs.Sdk analyzers. Never renumber a shipped id.</summary>
internal static class DiagnosticIds
{
    public const string UnregisteredJob = "JOBS001";
    public const string DuplicateRegistration = "JOBS002";
    public const string DuplicateJobName = "JOBS003";
    public const string JobTypeNotPartial = "JOBS004";
    public const string GenericJobType = "JOBS005";
    public const string AbstractJobType = "JOBS006";
    public const string InvalidJobName = "JOBS007";
    public const string InvalidAttributeSetting = "JOBS008";
    public const string HandlerForNonJob = "JOBS009";
    public const string UnsupportedMemberType = "JOBS010";
    public const string HandlerIgnoresCancellation = "JOBS011";
    public const string DuplicateJsonName = "JOBS012";
    public const string UnserializedMember = "JOBS013";
    public const string GeneratedMethodNameCollision = "JOBS014";
    public const string UnsupportedJsonAttribute = "JOBS015";
    public const string InvalidFlowSetting = "JOBS020";
    public const string UnsupportedKeyMember = "JOBS021";
    public const string InvalidConcurrencyLimit = "JOBS022";
    public const string ConcurrencyKeyWithoutLimit = "JOBS023";
    public const string UnorderedUniquePayload = "JOBS024";
    public const string UncalledLibraryRegistration = "JOBS025";
    public const string ContextRoundTrip = "JOBS026";
}
