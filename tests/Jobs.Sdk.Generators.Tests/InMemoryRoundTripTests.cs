using System.Reflection;
using System.Text.Json;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Compiles generated code in memory, loads it and round-trips payloads through it. The broader round-trip, System.Text.Json
/// cross-check and decode-error suites run in Jobs.Sdk.IntegrationTests, where the generator runs as a real analyzer.
/// </summary>
public class InMemoryRoundTripTests
{
    private const string Source = """
        using System;
        using System.Buffers;
        using System.Collections.Generic;
        using System.Text.Json;
        using Jobs.Sdk;

        namespace Probe;

        public enum Mood { Calm, Angry }
        public sealed record Child(string Name, int[] Scores);

        [Job("probe")]
        public partial record ProbeJob(
            int Id, string Text, decimal Amount, DateTimeOffset At, Mood Mood, Child Child,
            List<Child>? Children, Dictionary<string, double?> Map, Guid? Maybe, char Letter, byte[] Blob);

        public static class Harness
        {
            public static byte[] Write<T>(T job) where T : IJob<T>
            {
                var buffer = new ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(buffer)) { T.Serialize(writer, job); }
                return buffer.WrittenSpan.ToArray();
            }

            public static byte[] RoundTrip(byte[] json) => Write(ProbeJob.Deserialize(json));

            public static byte[] Sample() => Write(new ProbeJob(
                -7, "tab\t \"quote\" ünïcödé 😀", 123.4500m, new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.FromMinutes(-150)), Mood.Angry,
                new Child("c", [1, 2]), null, new Dictionary<string, double?> { ["x"] = 1.5, ["y"] = null }, Guid.Empty, 'é', [1, 2, 3]));

            public static string Decode(string json)
            {
                try { ProbeJob.Deserialize(System.Text.Encoding.UTF8.GetBytes(json)); return "ok"; }
                catch (JobDecodeException e) { return e.JobName + "|" + e.Member + "|" + e.Path; }
            }
        }

        public partial record ProbeJob
        {
            public static ProbeJob Deserialize(ReadOnlySpan<byte> json) => Read<ProbeJob>(json);
            private static T Read<T>(ReadOnlySpan<byte> json) where T : IJob<T> => T.Deserialize(json);
        }
        """;

    private static readonly Lazy<Type> Harness = new(() =>
    {
        var output = GeneratorHarness.Run(Source).AssertClean();
        using var stream = new MemoryStream();
        var emit = output.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        return Assembly.Load(stream.ToArray()).GetType("Probe.Harness")!;
    });

    private static T Call<T>(string method, params object[] args) => (T)Harness.Value.GetMethod(method)!.Invoke(null, args)!;

    [Fact]
    public void Generated_serializer_round_trips_and_writes_valid_json()
    {
        var json = Call<byte[]>("Sample");
        Assert.Equal(json, Call<byte[]>("RoundTrip", json));

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(-7, root.GetProperty("id").GetInt32());
        Assert.Equal("tab\t \"quote\" ünïcödé 😀", root.GetProperty("text").GetString());
        Assert.Equal("123.4500", root.GetProperty("amount").GetRawText());
        Assert.Equal(TimeSpan.FromMinutes(-150), root.GetProperty("at").GetDateTimeOffset().Offset);
        Assert.Equal("Angry", root.GetProperty("mood").GetString());
        Assert.Equal(2, root.GetProperty("child").GetProperty("scores")[1].GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("children").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("map").GetProperty("y").ValueKind);
        Assert.Equal("é", root.GetProperty("letter").GetString());
        Assert.Equal([1, 2, 3], root.GetProperty("blob").GetBytesFromBase64());
    }

    [Theory]
    [InlineData("""{"text":"t","amount":1,"at":"2020-01-01T00:00:00Z","mood":"calm","child":{"name":"n","scores":[]},"map":{},"letter":"a","blob":""}""", "probe|Id|$.id")]
    [InlineData("""{"id":1,"text":"t","amount":1,"at":"2020-01-01T00:00:00Z","mood":"calm","child":{"name":"n","scores":[1,"x"]},"map":{},"letter":"a","blob":""}""", "probe|Scores|$.child.scores[1]")]
    [InlineData("""{"id":1,"text":null,"amount":1,"at":"2020-01-01T00:00:00Z","mood":"calm","child":{"name":"n","scores":[]},"map":{},"letter":"a","blob":""}""", "probe|Text|$.text")]
    [InlineData("""{"id":1,"text":"t","amount":1,"at":"2020-01-01T00:00:00Z","mood":"calm","child":{"name":"n","scores":[]},"children":[{"name":"ok","scores":[]},{"scores":[]}],"map":{},"letter":"a","blob":""}""", "probe|Name|$.children[1].name")]
    [InlineData("""{"zzz":[{}],"id":1,"text":"t","amount":1,"at":"2020-01-01T00:00:00Z","mood":"calm","child":{"name":"n","scores":[],"extra":true},"map":{},"letter":"a","blob":""}""", "ok")]
    public void Decode_errors_name_job_member_and_path(string json, string expected)
        => Assert.Equal(expected, Call<string>("Decode", json));
}
