using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators.Tests;

public class GeneratorBehaviourTests
{
    [Fact]
    public void Concurrency_limit_and_key_members_emit_the_flow_members_and_nothing_when_unset()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("import-file", ConcurrencyLimit = 1)] public partial record ImportFile([property: ConcurrencyKey] string TenantId, string Path);
            [Job("render", ConcurrencyLimit = 3)] public partial record Render(int Page);
            [Job("plain")] public partial record Plain(int Value);
            """).AssertClean();

        var import = output.Files["App.ImportFile.g.cs"];
        Assert.Contains("static int? global::Jobs.Sdk.IJob<global::App.ImportFile>.ConcurrencyLimit => 1;", import, StringComparison.Ordinal);
        Assert.Contains("GetConcurrencyKey(global::App.ImportFile job) => \"import-file:\" + global::Jobs.Sdk.Infrastructure.JobKeyText.Join(global::Jobs.Sdk.Infrastructure.JobKeyText.Of(job.TenantId));",
            import, StringComparison.Ordinal);
        var render = output.Files["App.Render.g.cs"];
        Assert.Contains("ConcurrencyLimit => 3;", render, StringComparison.Ordinal);
        Assert.DoesNotContain("GetConcurrencyKey", render, StringComparison.Ordinal); // the default: the job name
        Assert.DoesNotContain("Concurrency", output.Files["App.Plain.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void Key_attributes_on_constructor_parameters_of_a_class_bind_to_their_properties_ignoring_case()
    {
        // The serializer binds 'tenant' to 'Tenant' (as System.Text.Json does); the key members used to be matched by
        // exact name, so the marks were dropped silently and the key fell back to the whole payload / the job name.
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("sync", Unique = true, ConcurrencyLimit = 1)]
            public sealed partial class SyncTenant
            {
                public SyncTenant([UniqueKey, ConcurrencyKey] string tenant, int attempt) { Tenant = tenant; Attempt = attempt; }
                public string Tenant { get; }
                public int Attempt { get; }
            }
            """).AssertClean();

        var text = output.Files["App.SyncTenant.g.cs"];
        Assert.Contains("GetUniqueKey(global::App.SyncTenant job) => global::Jobs.Sdk.Infrastructure.JobKeyText.Join(global::Jobs.Sdk.Infrastructure.JobKeyText.Of(job.Tenant));",
            text, StringComparison.Ordinal);
        Assert.Contains("GetConcurrencyKey(global::App.SyncTenant job) => \"sync:\" + global::Jobs.Sdk.Infrastructure.JobKeyText.Join(global::Jobs.Sdk.Infrastructure.JobKeyText.Of(job.Tenant));",
            text, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_member_type_without_context_emits_nothing_for_that_job()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("bad")] public partial record BadJob(System.Numerics.BigInteger Value);
            [Job("good")] public partial record GoodJob(int Value);
            """).AssertClean();

        Assert.False(output.Files.ContainsKey("App.BadJob.g.cs"));
        Assert.True(output.Files.ContainsKey("App.GoodJob.g.cs"));
    }

    [Fact]
    public void A_member_the_JsonContext_cannot_give_back_as_pushed_emits_nothing_for_that_job()
    {
        // object reads back as a JsonElement, an interface cannot be created when reading: JOBS026, no serializer.
        var output = GeneratorHarness.Run("""
            using System;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            public interface IShape { double Area { get; } }
            [Job("anything", JsonContext = typeof(Ctx))] public partial record AnythingJob(object Value);
            [Job("shape", JsonContext = typeof(Ctx))] public partial record ShapeJob(IShape Shape);
            [Job("fine", JsonContext = typeof(Ctx))] public partial record FineJob(System.Text.Json.JsonElement Value);
            public partial class Ctx : JsonSerializerContext
            {
                public Ctx() : base(null) { }
                public static Ctx Default { get; } = new();
                protected override System.Text.Json.JsonSerializerOptions? GeneratedSerializerOptions => null;
                public override System.Text.Json.Serialization.Metadata.JsonTypeInfo? GetTypeInfo(Type type) => null;
            }
            """).AssertClean();

        Assert.False(output.Files.ContainsKey("App.AnythingJob.g.cs"), "a job with an object member through the JsonContext got a serializer");
        Assert.False(output.Files.ContainsKey("App.ShapeJob.g.cs"), "a job with an interface member through the JsonContext got a serializer");
        Assert.True(output.Files.ContainsKey("App.FineJob.g.cs"));
    }

    [Fact]
    public void File_local_and_ref_struct_jobs_emit_nothing()
    {
        // Both used to get code that does not compile (CS1729/CS1061 for the file type, CS9244 for the ref struct); JOBS006 reports them.
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("file")] file partial record FileJob(int A);
            file partial class Outer { [Job("file-nested")] public partial record Inner(int A); }
            [Job("ref")] public ref partial struct RefJob { public int A { get; set; } }
            [Job("good")] public partial record GoodJob(int A);
            """).AssertClean();

        Assert.Equal(["App.GoodJob.g.cs", "JobsRegistration.g.cs"], output.Files.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Cyclic_types_emit_nothing()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            public sealed record Node(string Name, Node? Next);
            [Job("cyclic")] public partial record CyclicJob(Node Head);
            """).AssertClean();

        Assert.DoesNotContain("App.CyclicJob.g.cs", output.Files.Keys);
    }

    [Fact]
    public void Non_partial_type_emits_nothing()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("np")] public record NotPartial(int Value);
            """).AssertClean();

        Assert.DoesNotContain("App.NotPartial.g.cs", output.Files.Keys);
    }

    [Fact]
    public void Nested_job_in_partial_class_compiles_and_gets_extensions_when_accessible()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            public static partial class Outer
            {
                [Job("nested")] public partial record Inner(int Value);
                [Job("hidden")] private partial record Hidden(int Value);
            }
            """).AssertClean();

        Assert.Contains("public static partial class OuterInnerJobExtensions", output.Files["App.Outer.Inner.g.cs"], StringComparison.Ordinal);
        Assert.DoesNotContain("JobExtensions", output.Files["App.Outer.Hidden.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void Every_supported_member_type_compiles_without_warnings()
    {
        GeneratorHarness.Run("""
            using System;
            using System.Collections.Generic;
            using System.Collections.Immutable;
            using Jobs.Sdk;
            namespace App;
            public enum Color { Red, Green }
            public struct Point { public int X { get; set; } public int Y { get; set; } }
            [Job("all")]
            public partial record AllTypes(
                bool A, byte B, sbyte C, short D, ushort E, int F, uint G, long H, ulong I, nint J, nuint K,
                float L, double M, decimal N, char O, string P, Guid Q, DateTime R, DateTimeOffset S, DateOnly T,
                TimeOnly U, TimeSpan V, Uri W, Color X, byte[] Y, int? Z, Color? A2, Point P2, Point? P3,
                int[] C1, List<string?> C2, IReadOnlyList<Point> C3, IEnumerable<long> C4, ImmutableArray<Guid> C5,
                HashSet<string> C6, Dictionary<string, int?> C7, IReadOnlyDictionary<string, List<Color>> C8,
                IList<double> C9, ICollection<char> C10, IReadOnlyCollection<TimeSpan> C11, IDictionary<string, Point> C12,
                List<List<int>>? C13);
            """).AssertClean();
    }

    [Fact]
    public void Keyword_member_names_and_parameter_name_clashes_compile()
    {
        GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("kw")] public partial record KeywordJob(int @class, string queue, string options, int job);
            """).AssertClean();
    }

    [Fact]
    public void Keyword_type_and_namespace_names_compile()
    {
        // 'partial record class' and 'namespace event' used to be emitted (CS1001), or nothing at all.
        var output = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Jobs.Sdk;
            namespace @event.@class
            {
                [Job("kw-type")] public partial record @class(int @int);
                public static partial class @static { [Job("kw-nested")] public partial record @object(string @string); }
                public static class Caller
                {
                    public static async Task PushAll(JobQueue queue)
                    {
                        await queue.PushclassAsync(1);
                        await queue.PushobjectAsync("s");
                    }
                }
            }
            """).AssertClean();

        Assert.Contains("event.class.class.g.cs", output.Files.Keys);
        Assert.Contains("event.class.static.object.g.cs", output.Files.Keys);
    }

    [Fact]
    public void Class_with_required_members_only_gets_job_object_overloads()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("req")] public partial class RequiredJob { public required string Name { get; init; } }
            """).AssertClean();

        var text = output.Files["App.RequiredJob.g.cs"];
        Assert.Contains("PushRequiredJobAsync(this global::Jobs.Sdk.JobQueue queue, global::App.RequiredJob job,", text, StringComparison.Ordinal);
        Assert.DoesNotContain("new global::App.RequiredJob(", text.Split("JobExtensions")[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Job_declared_without_nullable_annotations_compiles_without_warnings()
    {
        GeneratorHarness.Run("""
            #nullable disable
            using System.Collections.Generic;
            using Jobs.Sdk;
            namespace App;
            public sealed class Item { public string Name { get; set; } }
            [Job("oblivious")] public partial record ObliviousJob(string Name, List<string> Tags, Dictionary<string, Item> Items, Item Main);
            """).AssertClean();
    }

    [Fact]
    public void Jobs_in_referenced_assemblies_are_registered_with_local_handlers()
    {
        var library = GeneratorHarness.CreateCompilation("""
            using Jobs.Sdk;
            namespace Contracts;
            [Job("shared")] public partial record SharedJob(int Value);
            """).WithAssemblyName("Contracts");
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(library, out var libraryOutput, out _);
        using var stream = new MemoryStream();
        var emit = libraryOutput.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));

        var app = GeneratorHarness.CreateCompilation("""
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;
            namespace App;
            public sealed class SharedHandler : IJobHandler<Contracts.SharedJob>
            {
                public Task HandleAsync(Contracts.SharedJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """).AddReferences(Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(stream.ToArray()));
        var driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(app, out var output, out _);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning));
        var registration = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("JobsRegistration.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("Register<global::Contracts.SharedJob, global::App.SharedHandler>(builder);", registration, StringComparison.Ordinal);
    }

    [Fact]
    public void Type_from_another_assembly_whose_members_none_are_carried_is_rejected_not_written_as_an_empty_object()
    {
        // Compiled separately: to the job's compilation these are metadata types (a "Contracts" project, NodaTime-like
        // structs). Their get-only properties cannot be told apart from computed ones, and their state is private.
        var library = CSharpCompilation.Create("Contracts",
            [CSharpSyntaxTree.ParseText("""
                namespace Contracts;
                public readonly struct Stamp
                {
                    private readonly long _ticks;
                    private Stamp(long ticks) => _ticks = ticks;
                    public static Stamp FromTicks(long ticks) => new(ticks);
                    public long Ticks => _ticks;
                }
                public sealed class Address { public string Street { get; set; } = ""; public string Display => Street; }
                """, GeneratorHarness.ParseOptions)],
            GeneratorHarness.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var image = new MemoryStream();
        Assert.True(library.Emit(image).Success);
        var compilation = GeneratorHarness.CreateCompilation("""
            using Jobs.Sdk;
            namespace App;
            [Job("stamped")] public partial record Stamped(Contracts.Stamp At);
            [Job("addressed")] public partial record Addressed(Contracts.Address To);
            """).AddReferences(MetadataReference.CreateFromImage(image.ToArray()));

        var stamped = compilation.GetTypeByMetadataName("App.Stamped")!;
        var problem = JobTypeSupport.FindProblem(stamped, hasJsonContext: false);
        Assert.NotNull(problem);
        Assert.Equal(JobTypeProblemKind.UnsupportedType, problem.Kind);
        Assert.Equal("At", problem.MemberPath);
        Assert.Contains("none of its members", problem.Reason, StringComparison.Ordinal);

        // A type from another assembly with a carried member is still serialized (its computed property is not data).
        Assert.Null(JobTypeSupport.FindProblem(compilation.GetTypeByMetadataName("App.Addressed")!, hasJsonContext: false));
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var files = driver.GetRunResult().Results.Single().GeneratedSources.Select(s => s.HintName).ToList();
        Assert.DoesNotContain("App.Stamped.g.cs", files);
        Assert.Contains("App.Addressed.g.cs", files);
    }
}
