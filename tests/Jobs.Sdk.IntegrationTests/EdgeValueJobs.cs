using System.Collections.Immutable;

#pragma warning disable CA1008, CA1028 // Enums without a zero member and of other underlying types are the point of the tests.

namespace Jobs.Sdk.IntegrationTests;

/// <summary>Colours without flags: every other number is undefined.</summary>
public enum Hue
{
    /// <summary>Red.</summary>
    Red = 1,
    /// <summary>Green.</summary>
    Green = 2,
}

/// <summary>Flags with a named combination.</summary>
[Flags]
public enum Rights
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>Read.</summary>
    Read = 1,
    /// <summary>Write.</summary>
    Write = 2,
    /// <summary>Both, named.</summary>
    ReadWrite = 3,
    /// <summary>Delete.</summary>
    Delete = 4,
}

/// <summary>Enums of other underlying types.</summary>
public enum Tiny : sbyte
{
    /// <summary>Minus one.</summary>
    Minus = -1,
}

/// <summary>Enums of other underlying types.</summary>
public enum Huge : ulong
{
    /// <summary>One.</summary>
    One = 1,
}

/// <summary>Enum values that are not a single named member.</summary>
/// <param name="Hue">A non-flags enum.</param>
/// <param name="Rights">A flags enum.</param>
/// <param name="Tiny">A signed byte enum.</param>
/// <param name="Huge">An unsigned long enum.</param>
/// <param name="Hues">Enums in a list.</param>
/// <param name="Maybe">A nullable enum.</param>
[Job("edge-enums")]
public sealed partial record EnumEdgeJob(Hue Hue, Rights Rights, Tiny Tiny, Huge Huge, List<Hue> Hues, Hue? Maybe);

/// <summary>Signed zeros.</summary>
/// <param name="Double">A double.</param>
/// <param name="Single">A float.</param>
/// <param name="Decimal">A decimal.</param>
/// <param name="Doubles">Doubles in a list.</param>
/// <param name="Map">Nullable doubles in a dictionary.</param>
[Job("edge-zeros")]
public sealed partial record ZeroEdgeJob(double Double, float Single, decimal Decimal, List<double> Doubles, Dictionary<string, float?> Map);

/// <summary>Default (uninitialized) immutable arrays.</summary>
/// <param name="Items">Top level.</param>
/// <param name="Nested">Inside a list.</param>
[Job("edge-immutable")]
public sealed partial record ImmutableEdgeJob(ImmutableArray<int> Items, List<ImmutableArray<string>> Nested)
{
    /// <summary>A nullable immutable array (null and a default array are different values).</summary>
    public ImmutableArray<int>? Maybe { get; init; }

    /// <summary>Record equality compares ImmutableArray by reference; compare contents and default-ness instead.</summary>
    /// <returns>A text form of the job.</returns>
    public string Describe() => Text(Items) + "|" + string.Join(",", Nested.Select(Text)) + "|" + (Maybe is { } m ? Text(m) : "null");

    private static string Text<T>(ImmutableArray<T> array) => array.IsDefault ? "default" : "[" + string.Join(",", array) + "]";
}
