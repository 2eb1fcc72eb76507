using System.Text.Json.Serialization;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A string with an unpaired surrogate (text cut in the middle of an emoji) is refused at push in the members the
/// generated serializer writes, since Utf8JsonWriter would write U+FFFD in its place. In a member the job's
/// JsonSerializerContext writes (a type the generated serializer hands to System.Text.Json) it was not: the push
/// succeeded and the handler got another string.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ContextTextPayloadTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData("value")]
    [InlineData("key")]
    public async Task An_unpaired_surrogate_in_a_member_the_JsonContext_writes_is_refused_at_push(string where)
    {
        var seen = new Recorder<ContextTextJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddContextTextJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();
        const string Cut = "emoji cut in half: \ud83d";
        var pushed = where == "value"
            ? new ContextTextJob(new Dictionary<int, string> { [1] = Cut }, new SortedDictionary<string, string> { ["k"] = "v" })
            : new ContextTextJob(new Dictionary<int, string> { [1] = "v" }, new SortedDictionary<string, string> { [Cut] = "v" });

        ArgumentException? refused = null;
        try
        {
            await q.Queue.PushAsync(pushed);
        }
        catch (ArgumentException e)
        {
            refused = e;
        }

        if (refused is null)
        {
            await seen.WaitForCountAsync(1, 60);
            var read = Assert.Single(seen.Items);
            var got = where == "value" ? read.ByNumber[1] : read.Sorted.Keys.Single();
            Assert.Fail($"A {where} with an unpaired surrogate in a member the job's JsonSerializerContext writes was pushed and reached the handler as "
                + $"'{Escaped(got)}' (pushed '{Escaped(Cut)}'); it should be refused at push, as it is in members the generated serializer writes");
        }

        Assert.Contains("unpaired surrogate (U+D83D)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'test.context-text'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paired_surrogates_in_a_member_the_JsonContext_writes_reach_the_handler_unchanged()
    {
        var seen = new Recorder<ContextTextJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddContextTextJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();
        const string Whole = "emoji \ud83d\ude00, accents \u00e9, \"quotes\" and <tags>";

        await q.Queue.PushAsync(new ContextTextJob(new Dictionary<int, string> { [1] = Whole }, new SortedDictionary<string, string> { [Whole] = Whole }));
        await seen.WaitForCountAsync(1, 60);

        var read = Assert.Single(seen.Items);
        Assert.Equal((Whole, Whole, Whole), (read.ByNumber[1], read.Sorted.Keys.Single(), read.Sorted.Values.Single()));
    }

    private static string Escaped(string text) => string.Concat(text.Select(c => c < 128 ? c.ToString() : $"\\u{(int)c:X4}"));
}

/// <summary>Members of framework types the generated serializer hands to the job's JsonSerializerContext.</summary>
/// <param name="ByNumber">A dictionary with int keys (written by System.Text.Json).</param>
/// <param name="Sorted">A sorted dictionary (written by System.Text.Json, keys included).</param>
[Job("test.context-text", JsonContext = typeof(ContextTextJsonContext))]
public sealed partial record ContextTextJob(Dictionary<int, string> ByNumber, SortedDictionary<string, string> Sorted);

/// <summary>The context of <see cref="ContextTextJob"/>.</summary>
[JsonSerializable(typeof(Dictionary<int, string>))]
[JsonSerializable(typeof(SortedDictionary<string, string>))]
internal sealed partial class ContextTextJsonContext : JsonSerializerContext;
