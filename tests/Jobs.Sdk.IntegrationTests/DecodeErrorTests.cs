using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

public class DecodeErrorTests
{
    private const string ValidLine = """{"sku":"a","quantity":1,"price":2.5}""";

    private static string Order(string lines = "[" + ValidLine + "]", string customer = "\"c\"", string extra = "")
        => $$"""{"orderId":"7d2a1e4c-8f0b-4a6d-9c3e-1b2f3a4d5e6f","customer":{{customer}},"lines":{{lines}},"level":"low","tags":{},"discount":null,"placedAt":"2024-01-01T00:00:00+02:00"{{extra}}}""";

    [Fact]
    public void Valid_payload_with_unknown_properties_decodes()
    {
        var job = JobJson.Deserialize<ShipOrderJob>(Order(extra: ""","unknown":{"deep":[1,2,{"x":null}]},"another":"x" """));
        Assert.Equal("c", job.Customer);
        Assert.Equal(Level.Low, job.Level);
        Assert.Single(job.Lines);
    }

    [Fact]
    public void Missing_required_member_names_job_member_and_path()
    {
        var json = Order().Replace("\"customer\":\"c\",", "", StringComparison.Ordinal);
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ShipOrderJob>(json));
        Assert.Equal("ship-order", error.JobName);
        Assert.Equal("Customer", error.Member);
        Assert.Equal("$.customer", error.Path);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_token_type_in_nested_list_names_the_json_path()
    {
        var json = Order(lines: "[" + ValidLine + """,{"sku":"b","quantity":"two","price":1}]""");
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ShipOrderJob>(json));
        Assert.Equal("ship-order", error.JobName);
        Assert.Equal("Quantity", error.Member);
        Assert.Equal("$.lines[1].quantity", error.Path);
        Assert.Contains("expected a 32-bit integer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_for_non_nullable_member_is_rejected()
    {
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ShipOrderJob>(Order(customer: "null")));
        Assert.Equal("Customer", error.Member);
        Assert.Equal("$.customer", error.Path);
        Assert.Contains("null is not allowed", error.Message, StringComparison.Ordinal);

        var nullStruct = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ReindexJob>("""{"shard":null,"window":"00:01:00","full":true}"""));
        Assert.Equal("Shard", nullStruct.Member);
        Assert.Equal("$.shard", nullStruct.Path);
    }

    [Fact]
    public void Out_of_range_numbers_and_bad_enum_names_are_decode_errors()
    {
        var overflow = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ReindexJob>("""{"shard":3000000000,"window":"00:01:00","full":true}"""));
        Assert.Equal("$.shard", overflow.Path);

        var badEnum = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ShipOrderJob>(Order().Replace("\"low\"", "\"urgent\"", StringComparison.Ordinal)));
        Assert.Equal("Level", badEnum.Member);
        Assert.Equal("$.level", badEnum.Path);
    }

    [Fact]
    public void Dictionary_values_report_their_key_in_the_path()
    {
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ShipOrderJob>(Order().Replace("\"tags\":{}", "\"tags\":{\"a\":\"x\",\"b\":1}", StringComparison.Ordinal)));
        Assert.Equal("$.tags.b", error.Path);
        Assert.Equal("Tags", error.Member);
    }

    [Fact]
    public void Malformed_json_is_a_decode_error()
    {
        var error = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ShipOrderJob>("""{"orderId": """));
        Assert.Equal("ship-order", error.JobName);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(error.InnerException);
    }

    [Fact]
    public void Missing_optional_members_keep_their_defaults()
    {
        var report = JobJson.Deserialize<ReportJob>("""{"title":"only"}""");
        Assert.Equal("only", report.Title);
        Assert.Equal(50, report.PageSize);
        Assert.Empty(report.Recipients);
        Assert.Equal("pdf", report.Format);
        Assert.Null(report.Day);

        var missingTitle = Assert.Throws<JobDecodeException>(() => JobJson.Deserialize<ReportJob>("""{"pageSize":1}"""));
        Assert.Equal("Title", missingTitle.Member);

        var order = JobJson.Deserialize<ShipOrderJob>(Order().Replace("\"discount\":null,", "", StringComparison.Ordinal));
        Assert.Null(order.Discount);
    }

    [Fact]
    public void Enum_names_are_read_case_insensitively_and_escaped_names_match()
    {
        var job = JobJson.Deserialize<ShipOrderJob>(Order().Replace("\"low\"", "\"HIGH\"", StringComparison.Ordinal).Replace("\"customer\"", "\"\\u0063ustomer\"", StringComparison.Ordinal));
        Assert.Equal(Level.High, job.Level);
        Assert.Equal("c", job.Customer);
    }
}
