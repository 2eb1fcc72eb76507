using System.Collections.Immutable;
using System.Text;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>Values an audit found at the edges of the generated serializer: each round-trips exactly or is refused at push.</summary>
public class EdgeValueTests
{
    [Theory]
    [InlineData((Hue)42, (Rights)3, (Tiny)(-1), (Huge)1)]
    [InlineData((Hue)3, (Rights)7, (Tiny)(-128), (Huge)ulong.MaxValue)]
    [InlineData((Hue)0, (Rights)0, (Tiny)0, (Huge)0)]
    [InlineData((Hue)(-5), (Rights)5, (Tiny)127, (Huge)2)]
    [InlineData((Hue)int.MinValue, (Rights)(-1), (Tiny)5, (Huge)(1UL << 63))]
    [InlineData((Hue)int.MaxValue, (Rights)9, (Tiny)(-1), (Huge)3)]
    public void Enum_values_that_are_not_one_named_member_round_trip(Hue hue, Rights access, Tiny tiny, Huge huge)
    {
        var job = new EnumEdgeJob(hue, access, tiny, huge, [hue, Hue.Red, (Hue)99], hue);

        var back = JobJson.Deserialize<EnumEdgeJob>(JobJson.Serialize(job));

        Assert.Equal((hue, access, tiny, huge, hue), (back.Hue, back.Rights, back.Tiny, back.Huge, back.Maybe));
        Assert.Equal(job.Hues, back.Hues);
    }

    [Fact]
    public void Negative_zero_round_trips_and_is_not_written_as_a_JSON_number_jsonb_would_normalise()
    {
        var job = new ZeroEdgeJob(-0.0, -0.0f, decimal.Negate(0.00m), [-0.0, 0.0, -1.5], new Dictionary<string, float?> { ["a"] = -0.0f, ["b"] = null });

        var json = JobJson.Serialize(job);
        var back = JobJson.Deserialize<ZeroEdgeJob>(json);

        Assert.True(double.IsNegative(back.Double) && back.Double == 0);
        Assert.True(float.IsNegative(back.Single) && back.Single == 0);
        Assert.True(decimal.IsNegative(back.Decimal));
        Assert.Equal("0.00", back.Decimal.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([true, false, true], back.Doubles.Select(double.IsNegative));
        Assert.True(float.IsNegative(back.Map["a"]!.Value));
        Assert.Null(back.Map["b"]);

        // PostgreSQL's jsonb turns the number -0 (and -0.0, -0.00, -0e0) into 0: no number token may be a negative zero.
        var reader = new System.Text.Json.Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == System.Text.Json.JsonTokenType.Number)
            {
                Assert.False(decimal.TryParse(Encoding.UTF8.GetString(reader.ValueSpan), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n == 0
                    && reader.ValueSpan[0] == (byte)'-', "negative zero written as a number: " + Encoding.UTF8.GetString(json));
            }
        }
    }

    [Fact]
    public void A_default_ImmutableArray_round_trips_as_default_not_as_empty()
    {
        var job = new ImmutableEdgeJob(default, [default, [], ["x"]]) { Maybe = default(ImmutableArray<int>?) };

        var back = JobJson.Deserialize<ImmutableEdgeJob>(JobJson.Serialize(job));

        Assert.Equal("default|default,[],[x]|null", back.Describe());
        var empty = JobJson.Deserialize<ImmutableEdgeJob>(JobJson.Serialize(new ImmutableEdgeJob([], []) { Maybe = ImmutableArray<int>.Empty }));
        Assert.Equal("[]||[]", empty.Describe());
    }

    [Fact]
    public void A_default_ImmutableArray_in_a_nullable_is_refused_at_push_as_null_would_read_back()
    {
        var job = new ImmutableEdgeJob([1], []) { Maybe = default(ImmutableArray<int>) };

        var ex = Assert.Throws<ArgumentException>(() => JobJson.Serialize(job));

        Assert.Contains("ImmutableEdgeJob.Maybe", ex.Message, StringComparison.Ordinal);
        Assert.Contains("IsDefault", ex.Message, StringComparison.Ordinal);
    }
}
