using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>A status whose old value is obsolete.</summary>
public enum PlanStatus
{
    /// <summary>Active.</summary>
    Active,

    /// <summary>Replaced by <see cref="Closed"/>; queued jobs may still carry it.</summary>
    [Obsolete("use Closed")]
    Cancelled,

    /// <summary>Closed.</summary>
    Closed,
}

/// <summary>A job whose payload evolves: the old member and enum value stay, marked obsolete, while queued jobs drain.</summary>
/// <param name="Status">A status that may be the obsolete value.</param>
[Job("obsolete-members")]
public sealed partial record ObsoleteMembersJob(PlanStatus Status)
{
    /// <summary>The old name of <see cref="Name"/>.</summary>
    [Obsolete("use Name")]
    public string? Title { get; init; }

    /// <summary>The name.</summary>
    public string? Name { get; init; }
}

/// <summary>Obsolete members and enum values are still carried (and the generated code compiles without warnings, as errors here).</summary>
public class ObsoleteMemberTests
{
    [Fact]
    public void Obsolete_members_and_enum_values_round_trip()
    {
#pragma warning disable CS0618 // The obsolete member and value are the point of the test.
        var job = new ObsoleteMembersJob(PlanStatus.Cancelled) { Title = "old", Name = "new" };

        var back = JobJson.Deserialize<ObsoleteMembersJob>(JobJson.Serialize(job));

        Assert.Equal((PlanStatus.Cancelled, "old", "new"), (back.Status, back.Title, back.Name));
#pragma warning restore CS0618
    }
}
