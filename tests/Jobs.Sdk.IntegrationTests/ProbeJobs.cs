using System.Text.Json.Serialization;
using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>A positional record with an ignored member.</summary>
/// <param name="Kept">Written.</param>
/// <param name="Secret">Never written; a worker sees the default.</param>
[Job("probe-ignored-positional")]
public sealed partial record IgnoredPositionalJob(int Kept, [property: JsonIgnore] string Secret = "default");

/// <summary>Every <see cref="JsonIgnoreCondition"/> on settable properties.</summary>
[Job("probe-ignore-conditions")]
public sealed partial class IgnoreConditionsJob
{
    /// <summary>Ignored always.</summary>
    [JsonIgnore] public string? Always { get; set; }

    /// <summary>Written only when not null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? NullSkipped { get; set; }

    /// <summary>Written only when not default.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int DefaultSkipped { get; set; }

    /// <summary>Written only when not default (a reference type: not null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? DefaultSkippedReference { get; set; }

    /// <summary>Always written.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Never { get; set; }

    /// <summary>Read, never written.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWriting)] public string? ReadOnlyInput { get; set; }

    /// <summary>Written, never read.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenReading)] public string? WriteOnlyOutput { get; set; }
}

/// <summary>STJ source-generated metadata for comparing payloads with the generated serializer.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IgnoreConditionsJob))]
[JsonSerializable(typeof(IgnoredPositionalJob))]
internal sealed partial class ProbeStjContext : JsonSerializerContext;

#pragma warning disable CA1708 // Members that differ only in case are the point of the test.
/// <summary>Members that differ only in case.</summary>
public enum Shade
{
    /// <summary>Dark.</summary>
    Dark = 0,
    /// <summary>Darker (same name, other case).</summary>
    DARK = 1,
    /// <summary>Light.</summary>
    Light = 2,
}
#pragma warning restore CA1708

/// <summary>Flags with long names: combinations exceed 256 characters.</summary>
[Flags]
public enum LongPermissions
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>One.</summary>
    ReadTheQuarterlyFinancialStatementsOfTheCompany = 1,
    /// <summary>Two.</summary>
    WriteTheQuarterlyFinancialStatementsOfTheCompany = 2,
    /// <summary>Three.</summary>
    DeleteTheQuarterlyFinancialStatementsOfTheCompany = 4,
    /// <summary>Four.</summary>
    ApproveTheQuarterlyFinancialStatementsOfTheCompany = 8,
    /// <summary>Five.</summary>
    PublishTheQuarterlyFinancialStatementsOfTheCompany = 16,
    /// <summary>Six.</summary>
    ArchiveTheQuarterlyFinancialStatementsOfTheCompany = 32,
    /// <summary>Seven.</summary>
    AuditTheQuarterlyFinancialStatementsOfTheCompanyNow = 64,
}

/// <summary>Enums that the old case-insensitive, fixed-buffer reader got wrong.</summary>
/// <param name="Shade">Case-only member names.</param>
/// <param name="Permissions">A long flags combination.</param>
[Job("probe-enums")]
public sealed partial record EnumProbeJob(Shade Shade, LongPermissions Permissions);

/// <summary>A nested line whose non-nullable member must be set.</summary>
/// <param name="Sku">Stock keeping unit.</param>
public sealed record ProbeLine(string Sku);

/// <summary>Non-nullable reference members at several depths.</summary>
/// <param name="Name">Top-level string.</param>
/// <param name="Line">Nested object.</param>
/// <param name="Lines">Elements.</param>
/// <param name="Note">Nullable: null is fine.</param>
[Job("probe-nulls")]
public sealed partial record NullProbeJob(string Name, ProbeLine Line, List<ProbeLine> Lines, string? Note);

/// <summary>Push parameters named like the generated method's own (queue, options, jobOptions, job, cancellationToken).</summary>
/// <param name="queue">A queue name.</param>
/// <param name="options">Some options.</param>
/// <param name="jobOptions">More options.</param>
/// <param name="job">A job label.</param>
/// <param name="cancellationToken">A token label.</param>
[Job("probe-parameter-names")]
public sealed partial record ParameterNamesJob(string queue, int options, int jobOptions, string job, string cancellationToken);

/// <summary>Two object types whose old generated field names collided (<c>A</c>.<c>B_C</c> and <c>A_B</c>.<c>C</c>).</summary>
/// <param name="First">Type A.</param>
/// <param name="Second">Type A_B.</param>
[Job("probe-field-names")]
public sealed partial record FieldNamesJob(ProbeA First, ProbeA_B Second);

/// <summary>Type A.</summary>
/// <param name="B_C">A member with an underscore.</param>
public sealed record ProbeA(int B_C);

/// <summary>Type A_B.</summary>
/// <param name="C">A member.</param>
public sealed record ProbeA_B(int C);

/// <summary>A settable property marked <c>[JsonRequired]</c>: a payload without it must fail, as in System.Text.Json.</summary>
[Job("probe-json-required")]
public sealed partial class JsonRequiredJob
{
    /// <summary>Must be in the payload.</summary>
    [JsonRequired] public int Must { get; set; }

    /// <summary>Optional.</summary>
    public int Optional { get; set; }
}

/// <summary>A positional record whose nullable member is marked <c>[JsonRequired]</c>.</summary>
/// <param name="Name">Must be in the payload (null allowed).</param>
[Job("probe-json-required-positional")]
public sealed partial record JsonRequiredPositionalJob([property: JsonRequired] string? Name);

/// <summary>A non-sealed member type.</summary>
/// <param name="Name">The name.</param>
public record ProbePet(string Name);

/// <summary>A derived instance of <see cref="ProbePet"/> (its own member would be sliced off).</summary>
/// <param name="Name">The name.</param>
/// <param name="Lives">Its own member.</param>
public sealed record ProbeCat(string Name, int Lives) : ProbePet(Name);

/// <summary>A job whose member is declared as a non-sealed type.</summary>
/// <param name="Pet">Declared as the base.</param>
/// <param name="Pets">Elements declared as the base.</param>
[Job("probe-derived-member")]
public partial record DerivedMemberJob(ProbePet Pet, List<ProbePet>? Pets = null);

/// <summary>A job type derived from another job type (pushed as the base, it would be sliced).</summary>
/// <param name="Pet">Declared as the base.</param>
/// <param name="Note">Its own member.</param>
/// <param name="Pets">Elements.</param>
public sealed record DerivedJobSubtype(ProbePet Pet, string Note, List<ProbePet>? Pets = null) : DerivedMemberJob(Pet, Pets);

/// <summary>Strings and chars at several places, for unpaired surrogates.</summary>
/// <param name="Text">A string property.</param>
/// <param name="Letter">A char.</param>
/// <param name="Items">String elements.</param>
/// <param name="Map">String keys and values.</param>
[Job("probe-surrogates")]
public sealed partial record SurrogateJob(string Text, char Letter, List<string> Items, Dictionary<string, string> Map);

/// <summary>A URI whose original string can hold an unpaired surrogate.</summary>
/// <param name="Link">The URI.</param>
[Job("probe-uri-surrogate")]
public sealed partial record UriSurrogateJob(Uri Link);
