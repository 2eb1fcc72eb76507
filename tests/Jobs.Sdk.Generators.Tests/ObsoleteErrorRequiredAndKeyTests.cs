using System.Reflection;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// <c>required</c> and key members marked <c>[Obsolete(..., error: true)]</c> (the last step before removing them while
/// queued jobs drain): generated code must name them (a required member in the reader's object initializer, a key member
/// in the key text), yet CS0619 cannot be silenced. The job still compiles, round-trips and gives its keys.
/// </summary>
public class ObsoleteErrorRequiredAndKeyTests
{
    [Fact]
    public void Required_members_obsolete_as_errors_are_set_when_the_object_is_created_and_round_trip()
    {
        var harness = Load("""
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Jobs.Sdk;
            namespace App;
            // C# warns about an obsolete required member of a type with constructors that are not obsolete (a user of
            // this step silences it, or marks the constructors obsolete too).
            #pragma warning disable CS9042
            [Job("required-obsolete")]
            public partial record RequiredObsolete(int Code)
            {
                [Obsolete("use Code", error: true)] public required string OldName { get; init; }
                [Obsolete("use Code", error: true)] public required int OldCount { get; set; }
                public required Point Where { get; init; }
                public Sets? Sets { get; init; }
            }
            public partial struct Point { public int X { get; set; } [Obsolete("gone", true)] public required int Y { get; init; } }
            public sealed class Sets
            {
                [SetsRequiredMembers] public Sets() { }
                [Obsolete("gone", true)] public required string Old { get; init; } = "";
            }
            #pragma warning restore CS9042
            """);

        const string Json = """{"code":1,"oldName":"old","oldCount":2,"where":{"x":3,"y":4},"sets":{"old":"kept"}}""";
        Assert.Equal(Json, harness.RoundTrip<string>("RequiredObsolete", Json));
    }

    [Fact]
    public void Key_members_obsolete_as_errors_give_their_key_text()
    {
        var harness = Load("""
            using System;
            using Jobs.Sdk;
            using Jobs.Sdk.Infrastructure;
            namespace App;
            public abstract record TenantJob([property: UniqueKey, Obsolete("use Code", true)] string Tenant);
            [Job("key-obsolete", Unique = true, ConcurrencyLimit = 1)]
            public partial record KeyObsolete(string Tenant, int Code) : TenantJob(Tenant)
            {
                [UniqueKey] [Obsolete("use Code", error: true)] public long Shard { get; init; }
                [ConcurrencyKey] [Obsolete("gone", error: true)] public int Region;
            }
            public static partial class Harness
            {
                [Obsolete("names the obsolete members as a user's own obsolete code may")]
                public static string Keys(string json)
                {
                    var job = Read<KeyObsolete>(System.Text.Encoding.UTF8.GetBytes(json));
                    job.Region = 9;
                    // The job's own key members first, then inherited ones (KeyMemberSupport.FindMarked).
                    var expectedUnique = JobKeyText.Join(JobKeyText.Of(5L), JobKeyText.Of("acme"));
                    var expectedConcurrency = "key-obsolete:" + JobKeyText.Join(JobKeyText.Of(9L));
                    return UniqueKey(job) == expectedUnique && ConcurrencyKey(job) == expectedConcurrency
                        ? "ok" : UniqueKey(job) + " | " + ConcurrencyKey(job);
                }
                private static string? UniqueKey<T>(T job) where T : IJob<T> => T.GetUniqueKey(job);
                private static string ConcurrencyKey<T>(T job) where T : IJob<T> => T.GetConcurrencyKey(job);
            }
            """);

        const string Json = """{"tenant":"acme","code":1,"shard":5}""";
        Assert.Equal(Json, harness.RoundTrip<string>("KeyObsolete", Json));
        Assert.Equal("ok", harness.Call<string>("Keys", Json));
    }

    private const string HarnessSource = """
        using System;
        using System.Buffers;
        using System.Text.Json;
        using Jobs.Sdk;
        namespace App;
        public static partial class Harness
        {
            public static string RoundTrip(string type, string json)
                => (string)typeof(Harness).GetMethod(nameof(RoundTripOf))!.MakeGenericMethod(Type.GetType("App." + type)!).Invoke(null, [json])!;
            public static string RoundTripOf<T>(string json) where T : IJob<T>
            {
                var job = Read<T>(System.Text.Encoding.UTF8.GetBytes(json));
                var buffer = new ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(buffer)) { T.Serialize(writer, job); }
                return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
            }
            private static T Read<T>(ReadOnlySpan<byte> json) where T : IJob<T> => T.Deserialize(json);
        }
        """;

    /// <summary>Runs the generator over the job source and a harness, asserts a clean compilation, loads the assembly.</summary>
    private static LoadedHarness Load(string source)
    {
        var output = GeneratorHarness.Run(source, HarnessSource).AssertClean();
        using var stream = new MemoryStream();
        var emit = output.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        return new LoadedHarness(Assembly.Load(stream.ToArray()).GetType("App.Harness")!);
    }

    private sealed record LoadedHarness(Type Type)
    {
        public T RoundTrip<T>(string jobType, string json)
        {
            var type = Type.Assembly.GetType("App." + jobType)!;
            Assert.True(type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IJob<>)), $"'{jobType}' was left out by the generator (no IJob<{jobType}>)");
            return Call<T>("RoundTrip", jobType, json);
        }

        public T Call<T>(string method, params object[] arguments) => (T)Type.GetMethod(method)!.Invoke(null, arguments)!;
    }
}
