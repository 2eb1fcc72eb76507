namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Members and types the generated code cannot name without an error or a warning no <c>CS0618</c> pragma covers:
/// <c>[Obsolete(..., error: true)]</c> (CS0619), <c>[Obsolete]</c> with a custom <c>DiagnosticId</c>, and <c>[Experimental]</c>.
/// </summary>
public class ObsoleteErrorGeneratorTests
{
    [Fact]
    public void Obsolete_with_a_custom_diagnostic_id_and_experimental_members_and_types_compile_without_diagnostics()
    {
        GeneratorHarness.Run("""
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Jobs.Sdk;
            namespace App;
            [Obsolete("use Part2", DiagnosticId = "APP001")] public sealed record Part(int Code);
            [Experimental("APP002")] public sealed record Preview(int Level);
            public enum Mode { On, [Obsolete("gone", DiagnosticId = "APP003")] Off, [Experimental("APP004")] Auto }
            [Job("custom-ids")]
            public partial record CustomIds([property: Obsolete("use Code", DiagnosticId = "APP005")] int OldCode, Mode Mode)
            {
                [Experimental("APP006")] public string? Trial { get; init; }
            #pragma warning disable APP001, APP002
                public Part? Part { get; init; }
                public Preview? Preview { get; set; }
            #pragma warning restore APP001, APP002
            }
            """).AssertClean();
    }

    [Fact]
    public void An_experimental_or_custom_id_obsolete_job_type_and_its_handler_compile_without_diagnostics()
    {
        GeneratorHarness.Run("""
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Jobs.Sdk;
            namespace App;
            [Experimental("APP010")] [Job("experimental-job")] public partial record ExperimentalJob(int A);
            [Obsolete("v2", DiagnosticId = "APP011")] [Job("obsolete-id-job")] public partial record ObsoleteIdJob(int A);
            #pragma warning disable APP010, APP011
            public sealed class ExperimentalHandler : IJobHandler<ExperimentalJob>
            {
                public System.Threading.Tasks.Task HandleAsync(ExperimentalJob job, JobContext context, System.Threading.CancellationToken cancellationToken)
                    => System.Threading.Tasks.Task.CompletedTask;
            }
            public sealed class ObsoleteIdHandler : IJobHandler<ObsoleteIdJob>
            {
                public System.Threading.Tasks.Task HandleAsync(ObsoleteIdJob job, JobContext context, System.Threading.CancellationToken cancellationToken)
                    => System.Threading.Tasks.Task.CompletedTask;
            }
            #pragma warning restore APP010, APP011
            """).AssertClean();
    }

    [Fact]
    public void Members_obsolete_as_errors_are_read_and_written_through_accessors_and_round_trip()
    {
        // The last step before removing a member while queued jobs drain: [Obsolete(..., error: true)]. Generated code
        // cannot name it (CS0619 cannot be silenced), yet the queued payloads still carry it.
        var output = GeneratorHarness.Run("""
            using System;
            using System.Buffers;
            using System.Text.Json;
            using Jobs.Sdk;
            namespace App;
            [Job("obsolete-error-member")]
            public partial record ObsoleteErrorMember(int Code, [property: Obsolete("use Code", true)] int OldCode)
            {
                [Obsolete("use Code", error: true)] public string? OldName { get; init; }
                [Obsolete("use Code", error: true)] public Point Where { get; set; }
            }
            public partial struct Point { public int X { get; set; } [Obsolete("gone", true)] public int Y { get; init; } }
            public static class Harness
            {
                public static string RoundTrip(string json)
                {
                    var job = Read<ObsoleteErrorMember>(System.Text.Encoding.UTF8.GetBytes(json));
                    var buffer = new ArrayBufferWriter<byte>();
                    using (var writer = new Utf8JsonWriter(buffer)) { Write(writer, job); }
                    return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
                }
                private static T Read<T>(ReadOnlySpan<byte> json) where T : IJob<T> => T.Deserialize(json);
                private static void Write<T>(Utf8JsonWriter writer, T job) where T : IJob<T> => T.Serialize(writer, job);
            }
            """).AssertClean();

        using var stream = new MemoryStream();
        var emit = output.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        var harness = System.Reflection.Assembly.Load(stream.ToArray()).GetType("App.Harness")!;
        const string Json = """{"code":1,"oldCode":2,"oldName":"old","where":{"x":3,"y":4}}""";
        Assert.Equal(Json, (string)harness.GetMethod("RoundTrip")!.Invoke(null, [Json])!);
    }

    [Theory]
    [InlineData("public partial record ObsoleteErrorMember(int Code, Gone? Gone);")]
    [InlineData("public partial record ObsoleteErrorMember(int Code) : Base<int>(Code); public abstract record Base<T>(T Value) { [Obsolete(\"x\", error: true)] public string? Old { get; init; } }")]
    public void A_member_type_or_a_member_of_a_generic_type_obsolete_as_an_error_is_not_named_by_generated_code(string declaration)
    {
        // Generated code would have to name these (a type in declarations, a generic type's member in its accessor): the
        // generator leaves the job out and the analyzer says why (JOBS010), instead of a build broken inside generated code.
        var output = GeneratorHarness.Run($$"""
            using System;
            using Jobs.Sdk;
            namespace App;
            [Obsolete("gone", error: true)] public sealed record Gone(int A);
            [Job("obsolete-error-member")]
            {{declaration}}
            """);

        Assert.DoesNotContain(output.Diagnostics, d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
        Assert.False(output.Files.ContainsKey("App.ObsoleteErrorMember.g.cs"));
    }
}
