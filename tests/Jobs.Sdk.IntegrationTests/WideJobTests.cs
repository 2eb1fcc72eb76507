using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>A job with more members than the table-driven reader's 64-bit presence mask (its wide path).</summary>
[Job("wide-job")]
public sealed partial class WideJob
{
    /// <summary>Required: a payload without it fails naming it.</summary>
    public required string Name { get; init; }

    public int P0 { get; set; }
    public int P1 { get; set; }
    public int P2 { get; set; }
    public int P3 { get; set; }
    public int P4 { get; set; }
    public int P5 { get; set; }
    public int P6 { get; set; }
    public int P7 { get; set; }
    public int P8 { get; set; }
    public int P9 { get; set; }
    public int P10 { get; set; }
    public int P11 { get; set; }
    public int P12 { get; set; }
    public int P13 { get; set; }
    public int P14 { get; set; }
    public int P15 { get; set; }
    public int P16 { get; set; }
    public int P17 { get; set; }
    public int P18 { get; set; }
    public int P19 { get; set; }
    public int P20 { get; set; }
    public int P21 { get; set; }
    public int P22 { get; set; }
    public int P23 { get; set; }
    public int P24 { get; set; }
    public int P25 { get; set; }
    public int P26 { get; set; }
    public int P27 { get; set; }
    public int P28 { get; set; }
    public int P29 { get; set; }
    public int P30 { get; set; }
    public int P31 { get; set; }
    public int P32 { get; set; }
    public int P33 { get; set; }
    public int P34 { get; set; }
    public int P35 { get; set; }
    public int P36 { get; set; }
    public int P37 { get; set; }
    public int P38 { get; set; }
    public int P39 { get; set; }
    public int P40 { get; set; }
    public int P41 { get; set; }
    public int P42 { get; set; }
    public int P43 { get; set; }
    public int P44 { get; set; }
    public int P45 { get; set; }
    public int P46 { get; set; }
    public int P47 { get; set; }
    public int P48 { get; set; }
    public int P49 { get; set; }
    public int P50 { get; set; }
    public int P51 { get; set; }
    public int P52 { get; set; }
    public int P53 { get; set; }
    public int P54 { get; set; }
    public int P55 { get; set; }
    public int P56 { get; set; }
    public int P57 { get; set; }
    public int P58 { get; set; }
    public int P59 { get; set; }
    public int P60 { get; set; }
    public int P61 { get; set; }
    public int P62 { get; set; }
    public int P63 { get; set; }
    public int P64 { get; set; }
    public int P65 { get; set; }
    public int P66 { get; set; }
    public int P67 { get; set; }
    public int P68 { get; set; }
    public int P69 { get; set; }
}

public class WideJobTests
{
    [Fact]
    public void Members_past_the_64th_round_trip_and_absent_ones_keep_their_defaults()
    {
        var job = JobJson.Deserialize<WideJob>("""{"name":"w","p0":1,"p63":63,"p64":64,"p69":69}""");
        Assert.Equal(("w", 1, 63, 64, 69, 0, 0), (job.Name, job.P0, job.P63, job.P64, job.P69, job.P65, job.P1));
        var again = JobJson.Deserialize<WideJob>(JobJson.Serialize(job));
        Assert.Equal((64, 69, 0), (again.P64, again.P69, again.P68));
    }

    [Fact]
    public void A_missing_required_member_is_named_on_the_wide_path()
    {
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<WideJob>("""{"p69":69}"""));
        Assert.Equal("Name", error.Member);
        Assert.Equal("$.name", error.Path);
    }

    [Fact]
    public void A_bad_value_past_the_64th_member_names_that_member()
    {
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<WideJob>("""{"name":"w","p68":"x"}"""));
        Assert.Equal("P68", error.Member);
        Assert.Equal("$.p68", error.Path);
    }
}
