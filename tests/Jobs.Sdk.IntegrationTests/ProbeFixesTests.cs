using System.Text;
using System.Text.Json;
using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>Round trips of the edge cases an outside probe found (issue 14), through real generated code.</summary>
public class ProbeFixesTests
{
    [Fact]
    public void JsonIgnore_on_a_positional_record_property_keeps_it_out_of_the_payload()
    {
        var json = Encoding.UTF8.GetString(JobJson.Serialize(new IgnoredPositionalJob(7, "s3cret")));

        Assert.Equal("""{"kept":7}""", json);
        Assert.Equal(json, JsonSerializer.Serialize(new IgnoredPositionalJob(7, "s3cret"), ProbeStjContext.Default.IgnoredPositionalJob));
        var back = JobJson.Deserialize<IgnoredPositionalJob>("""{"kept":7,"secret":"injected"}""");
        Assert.Equal(new IgnoredPositionalJob(7, "default"), back);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void JsonIgnore_conditions_write_what_System_Text_Json_writes(bool populated)
    {
        var job = populated
            ? new IgnoreConditionsJob
            {
                Always = "a", NullSkipped = "n", DefaultSkipped = 3, DefaultSkippedReference = "d", Never = "v", ReadOnlyInput = "in", WriteOnlyOutput = "out",
            }
            : new IgnoreConditionsJob();

        var ours = Encoding.UTF8.GetString(JobJson.Serialize(job));
        var stj = JsonSerializer.Serialize(job, ProbeStjContext.Default.IgnoreConditionsJob);

        Assert.Equal(stj, ours);
    }

    [Fact]
    public void JsonIgnore_conditions_read_what_System_Text_Json_reads()
    {
        const string json = """{"always":"a","nullSkipped":"n","defaultSkipped":3,"defaultSkippedReference":"d","never":"v","readOnlyInput":"in","writeOnlyOutput":"out"}""";

        var ours = JobJson.Deserialize<IgnoreConditionsJob>(json);
        var stj = JsonSerializer.Deserialize(json, ProbeStjContext.Default.IgnoreConditionsJob)!;

        Assert.Null(ours.Always);
        Assert.Equal(("n", 3, "d", "v", "in"), (ours.NullSkipped, ours.DefaultSkipped, ours.DefaultSkippedReference, ours.Never, ours.ReadOnlyInput));
        Assert.Null(ours.WriteOnlyOutput);
        Assert.Equal(
            (stj.Always, stj.NullSkipped, stj.DefaultSkipped, stj.DefaultSkippedReference, stj.Never, stj.ReadOnlyInput, stj.WriteOnlyOutput),
            (ours.Always, ours.NullSkipped, ours.DefaultSkipped, ours.DefaultSkippedReference, ours.Never, ours.ReadOnlyInput, ours.WriteOnlyOutput));
    }

    [Theory]
    [InlineData(Shade.Dark)]
    [InlineData(Shade.DARK)]
    [InlineData(Shade.Light)]
    public void Enum_members_that_differ_only_in_case_read_back_as_themselves(Shade shade)
    {
        var back = JobJson.Deserialize<EnumProbeJob>(JobJson.Serialize(new EnumProbeJob(shade, LongPermissions.None)));

        Assert.Equal(shade, back.Shade);
    }

    [Fact]
    public void Enum_names_in_another_case_still_read_case_insensitively_like_System_Text_Json()
    {
        var back = JobJson.Deserialize<EnumProbeJob>("""{"shade":"light","permissions":"none"}""");

        Assert.Equal((Shade.Light, LongPermissions.None), (back.Shade, back.Permissions));
    }

    [Fact]
    public void Flags_combinations_longer_than_256_characters_read_back()
    {
        var all = Enum.GetValues<LongPermissions>().Aggregate((a, b) => a | b);
        var json = JobJson.Serialize(new EnumProbeJob(Shade.Dark, all));
        Assert.True(all.ToString().Length > 256, "the combination must exceed the old 256-character buffer");

        var back = JobJson.Deserialize<EnumProbeJob>(json);

        Assert.Equal(all, back.Permissions);
    }

    public static TheoryData<NullProbeJob, string> NullMembers() => new()
    {
        { new NullProbeJob(null!, new ProbeLine("a"), [], null), "NullProbeJob.Name" },
        { new NullProbeJob("n", null!, [], null), "NullProbeJob.Line" },
        { new NullProbeJob("n", new ProbeLine(null!), [], null), "ProbeLine.Sku" },
        { new NullProbeJob("n", new ProbeLine("a"), null!, null), "NullProbeJob.Lines" },
        { new NullProbeJob("n", new ProbeLine("a"), [new ProbeLine("b"), null!], null), "NullProbeJob.Lines[]" },
    };

    [Theory]
    [MemberData(nameof(NullMembers))]
    public async Task Null_in_a_non_nullable_member_is_rejected_at_push_naming_the_member(NullProbeJob job, string member)
    {
        await using var services = new ServiceCollection().AddLogging().AddJobs(jobs => jobs.UseInMemory()).BuildServiceProvider();
        var queue = services.GetRequiredService<JobQueue>();

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => queue.PushNullProbeJobAsync(job));

        Assert.Equal(member, error.ParamName);
        Assert.Equal(0, (await queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public void A_null_nullable_member_still_round_trips()
    {
        var job = new NullProbeJob("n", new ProbeLine("a"), [new ProbeLine("b")], null);

        var back = JobJson.Deserialize<NullProbeJob>(JobJson.Serialize(job));

        Assert.Equal(("n", "a", "b", (string?)null), (back.Name, back.Line.Sku, back.Lines.Single().Sku, back.Note));
    }

    [Fact]
    public async Task Push_parameters_named_like_the_generated_ones_do_not_collide()
    {
        await using var services = new ServiceCollection().AddLogging().AddJobs(jobs => jobs.UseInMemory()).BuildServiceProvider();
        var queue = services.GetRequiredService<JobQueue>();

        var id = await queue.PushParameterNamesJobAsync("q", 1, 2, "j", "c");

        var info = await queue.GetJobAsync(id);
        Assert.NotNull(info);
        var back = JobJson.Deserialize<ParameterNamesJob>(info.Payload);
        Assert.Equal(new ParameterNamesJob("q", 1, 2, "j", "c"), back);
    }

    [Fact]
    public void Object_types_whose_old_field_names_collided_round_trip()
    {
        var job = new FieldNamesJob(new ProbeA(1), new ProbeA_B(2));

        var json = Encoding.UTF8.GetString(JobJson.Serialize(job));

        Assert.Equal("""{"first":{"b_C":1},"second":{"c":2}}""", json);
        Assert.Equal(job, JobJson.Deserialize<FieldNamesJob>(json));
    }
}

/// <summary>System.Text.Json attributes the generated serializer honours beyond names and ignore conditions.</summary>
public class JsonAttributeTests
{
    [Fact]
    public void JsonRequired_member_missing_from_the_payload_fails_the_decode_like_System_Text_Json()
    {
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<JsonRequiredJob>("""{"optional":1}"""));
        Assert.Equal("Must", error.Member);

        var positional = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<JsonRequiredPositionalJob>("{}"));
        Assert.Equal("Name", positional.Member);

        Assert.Equal(3, JobJson.Deserialize<JsonRequiredJob>(JobJson.Serialize(new JsonRequiredJob { Must = 3 })).Must);
        Assert.Null(JobJson.Deserialize<JsonRequiredPositionalJob>("""{"name":null}""").Name);
    }
}

/// <summary>A derived instance where the payload declares its base type would silently lose its own members.</summary>
public class DerivedInstanceTests
{
    [Fact]
    public void A_derived_instance_in_a_member_declared_as_its_base_is_rejected_at_push()
    {
        var error = Assert.Throws<ArgumentException>(() => JobJson.Serialize(new DerivedMemberJob(new ProbeCat("tom", 9))));
        Assert.Contains("ProbeCat", error.Message, StringComparison.Ordinal);
        Assert.Equal("ProbePet", error.ParamName);

        Assert.Throws<ArgumentException>(() => JobJson.Serialize(new DerivedMemberJob(new ProbePet("a"), [new ProbePet("b"), new ProbeCat("c", 1)])));
    }

    [Fact]
    public void A_job_pushed_as_its_base_job_type_is_rejected_at_push()
    {
        DerivedMemberJob job = new DerivedJobSubtype(new ProbePet("a"), "note");

        var error = Assert.Throws<ArgumentException>(() => JobJson.Serialize(job));
        Assert.Contains("DerivedJobSubtype", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Instances_of_the_declared_type_still_round_trip()
    {
        var job = new DerivedMemberJob(new ProbePet("a"), [new ProbePet("b")]);

        var back = JobJson.Deserialize<DerivedMemberJob>(JobJson.Serialize(job));

        Assert.Equal(("a", "b"), (back.Pet.Name, back.Pets!.Single().Name));
    }
}

/// <summary>Unpaired surrogates cannot be written as JSON (Utf8JsonWriter would replace them with U+FFFD).</summary>
public class SurrogateTests
{
    public static TheoryData<SurrogateJob> Unpaired() => new()
    {
        new SurrogateJob("cut emoji \uD83D", 'a', [], []),
        new SurrogateJob("\uDE00 low first", 'a', [], []),
        new SurrogateJob("t", '\uD800', [], []),
        new SurrogateJob("t", 'a', ["ok", "x\uDC00y"], []),
        new SurrogateJob("t", 'a', [], new() { ["k"] = "v\uD800" }),
        new SurrogateJob("t", 'a', [], new() { ["k\uD800"] = "v" }),
    };

    [Theory]
    [MemberData(nameof(Unpaired))]
    public void An_unpaired_surrogate_is_rejected_at_push_instead_of_becoming_U_FFFD(SurrogateJob job)
    {
        var error = Assert.Throws<ArgumentException>(() => JobJson.Serialize(job));
        Assert.Contains("unpaired surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unpaired_surrogate_in_a_relative_uri_is_rejected_at_push()
    {
        var error = Assert.Throws<ArgumentException>(() => JobJson.Serialize(new UriSurrogateJob(new Uri("files/\uD800.txt", UriKind.Relative))));
        Assert.Contains("unpaired surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unpaired_surrogate_in_a_file_uri_made_from_a_path_is_rejected_at_push()
    {
        // Such a URI is written in its absolute form (file:///...), whose escaping would turn the surrogate into U+FFFD.
        var error = Assert.Throws<ArgumentException>(() => JobJson.Serialize(new UriSurrogateJob(new Uri(Path.GetFullPath("files/\uD800.txt")))));
        Assert.Contains("unpaired surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Paired_surrogates_and_other_characters_round_trip_exactly()
    {
        var job = new SurrogateJob("😀 é \u2028 \0 \"\\ \u001f", 'é', ["𝄞", ""], new() { ["😀"] = "𝄞" });

        var back = JobJson.Deserialize<SurrogateJob>(JobJson.Serialize(job));

        Assert.Equal((job.Text, job.Letter), (back.Text, back.Letter));
        Assert.Equal(job.Items, back.Items);
        Assert.Equal(job.Map, back.Map);
    }
}
