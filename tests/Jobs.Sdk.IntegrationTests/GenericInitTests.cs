namespace Jobs.Sdk.IntegrationTests;

/// <summary>
/// Init-only properties declared on generic types (a job deriving from a generic base record, a generic member type):
/// the generated reader sets them, as it does those of non-generic types.
/// </summary>
public class GenericInitTests
{
    [Fact]
    public void A_job_deriving_from_a_generic_base_record_reads_back_its_inherited_init_properties()
    {
        var job = new GenericBaseJob("n") { Expected = 42, CorrelationId = Guid.NewGuid() };

        Assert.Equal(job, JobJson.Deserialize<GenericBaseJob>(JobJson.Serialize(job)));
    }

    [Fact]
    public void Generic_member_types_read_back_their_init_properties()
    {
        var job = new GenericMembersJob(
            new Envelope<string>("v") { Version = 3 },
            new Box<string> { Content = "c" },
            new Tagged<long> { Value = long.MaxValue, Tag = "t" },
            new Catalog<Guid>.Entry { Key = Guid.NewGuid(), Label = "l" },
            [new Envelope<int>(1) { Version = 2 }]);

        var back = JobJson.Deserialize<GenericMembersJob>(JobJson.Serialize(job));

        Assert.Equal(job.Envelope, back.Envelope);
        Assert.Equal("c", back.Box.Content);
        Assert.Equal(job.Tagged, back.Tagged);
        Assert.Equal(job.Entry, back.Entry);
        Assert.Equal(job.Envelopes, back.Envelopes);
    }

    [Fact]
    public void Init_properties_of_generic_types_with_constraints_read_back()
    {
        var job = new ConstrainedGenericJob(new Ranked<string, long> { Key = "k", Value = long.MinValue }, new Made<MadeItem> { Item = new MadeItem { Number = 4 } });

        var back = JobJson.Deserialize<ConstrainedGenericJob>(JobJson.Serialize(job));

        Assert.Equal(("k", long.MinValue, 4), (back.Ranked.Key, back.Ranked.Value, back.Made.Item?.Number));
    }

    [Fact]
    public void Absent_init_properties_of_generic_types_keep_their_initializers()
    {
        var back = JobJson.Deserialize<GenericMembersJob>(
            """{"envelope":{"value":"v"},"box":{},"tagged":{"tag":"t"},"entry":{},"envelopes":[]}""");

        Assert.Equal(0, back.Envelope.Version);
        Assert.Null(back.Box.Content);
        Assert.Equal("none", back.Entry.Label);
    }
}
