using Microsoft.CodeAnalysis.Testing;
using D = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;
using R = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobRegistrationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>Diagnostics for the misuses an outside probe found (issue 14): each reported exactly, no false positives.</summary>
public class ProbeAnalyzerTests
{
    [Fact]
    public Task JOBS012_members_mapping_to_the_same_json_name()
        => D.AnalyzerAsync("""
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            [Job("case")] public partial record DupCase(string Name, string {|#0:NAME|});
            [Job("camel")] public partial record DupCamel(string URLValue, string {|#1:UrlValue|});
            [Job("attr")] public partial class DupAttr
            {
                [JsonPropertyName("x")] public int A { get; set; }
                [JsonPropertyName("x")] public int {|#2:B|} { get; set; }
            }
            public sealed record Inner(int Id, int ID);
            [Job("nested")] public partial record DupNested(Inner {|#3:Inner|});
            [Job("fine")] public partial record Fine(string Name, [property: JsonPropertyName("displayName")] string NAME);
            """,
            D.Diagnostic("JOBS012").WithLocation(0).WithMessage(
                "Job 'DupCase': 'Name' and 'NAME' of 'App.DupCase' both map to the JSON property 'name'; rename one or give it a distinct [JsonPropertyName]"),
            D.Diagnostic("JOBS012").WithLocation(1).WithMessage(
                "Job 'DupCamel': 'URLValue' and 'UrlValue' of 'App.DupCamel' both map to the JSON property 'urlValue'; rename one or give it a distinct [JsonPropertyName]"),
            D.Diagnostic("JOBS012").WithLocation(2).WithMessage(
                "Job 'DupAttr': 'A' and 'B' of 'App.DupAttr' both map to the JSON property 'x'; rename one or give it a distinct [JsonPropertyName]"),
            D.Diagnostic("JOBS012").WithLocation(3).WithMessage(
                "Job 'DupNested': 'Id' and 'ID' of 'App.Inner' both map to the JSON property 'id'; rename one or give it a distinct [JsonPropertyName]"));

    [Fact]
    public Task JOBS013_members_the_payload_does_not_carry()
        => D.AnalyzerAsync("""
            using System.Collections.Generic;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            [Job("dropped")]
            public partial class Dropped
            {
                public int Kept { get; set; }
                public int {|#0:PrivateSetter|} { get; private set; }
                public int {|#1:GetOnly|} { get; }
                public int {|#2:Field|};
                public int Computed => Kept * 2;
                [JsonIgnore] public int IgnoredGetOnly { get; }
                [JsonIgnore] public int IgnoredField;
                public List<Part> Parts { get; set; } = [];
            }
            public sealed class Part
            {
                public string Name { get; set; } = "";
                public string {|#3:Code|} { get; private set; } = "";
            }
            public readonly struct Money
            {
                private Money(decimal amount) => Amount = amount;
                public static Money Of(decimal amount) => new(amount);
                public decimal {|#4:Amount|} { get; }
            }
            [Job("priced")] public partial record Priced(Money Price);
            """,
            D.Diagnostic("JOBS013").WithLocation(0).WithMessage(
                "'Dropped.PrivateSetter' is not carried by job 'Dropped': its setter is not public, so it is not read back from the payload; a worker sees its default value (mark it [JsonIgnore] if that is intended)"),
            D.Diagnostic("JOBS013").WithLocation(1).WithArguments("Dropped.GetOnly", "Dropped", "it is get-only and no constructor parameter sets it, so it is not serialized"),
            D.Diagnostic("JOBS013").WithLocation(2).WithArguments("Dropped.Field", "Dropped", "public fields are not serialized (make it a property with a public setter or a constructor parameter)"),
            D.Diagnostic("JOBS013").WithLocation(3).WithArguments("Part.Code", "Dropped", "its setter is not public, so it is not read back from the payload"),
            D.Diagnostic("JOBS013").WithLocation(4).WithArguments("Money.Amount", "Priced", "it is get-only and no constructor parameter sets it, so it is not serialized"));

    [Fact]
    public Task JOBS013_non_public_state_the_payload_does_not_carry()
        => D.AnalyzerAsync("""
            using System;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            [Job("hidden")]
            public partial record Hidden(string Name, Part Part)
            {
                private readonly int {|#0:_retries|};
                private int {|#1:_count|};
                private string {|#2:Secret|} { get; set; } = "";
                internal int {|#3:Internal|} { get; init; }
                protected int {|#4:Shared|};
                private Hidden(string name, int retries) : this(name, new Part()) => _retries = retries;
                public static Hidden WithRetries(string name, int retries) => new(name, retries);
                public void Bump() => _count += _retries;
                public int Count => _count;

                private readonly string _upper = Name.ToUpperInvariant();
                private string Upper => _upper;
                private string _title = "";
                public string Title { get => _title; set => _title = value.Trim(); }
                private static int s_counter;
                private const int Max = 3;
                public static int Next() => ++s_counter + Max;
                private int Twice => _count * 2;
                [JsonIgnore] private int _ignored;
                public event EventHandler? Changed;
                private void Raise() => Changed?.Invoke(this, EventArgs.Empty);
            }
            public sealed class Part
            {
                public string Name { get; set; } = "";
                private int {|#5:_hits|};
                public void Hit() => _hits++;
            }
            public class Base
            {
                private int {|#6:_state|};
                public void Touch() => _state++;
            }
            [Job("derived")]
            public partial class Derived : Base
            {
                public int A { get; set; }
                private readonly Guid _id = Guid.Empty;
                public Guid Id => _id;
            }
            """,
            D.Diagnostic("JOBS013").WithLocation(0).WithMessage(
                "'Hidden._retries' is not carried by job 'Hidden': it is a private field, and the payload carries only constructor parameters and public settable properties; a worker sees its default value (mark it [JsonIgnore] if that is intended)"),
            D.Diagnostic("JOBS013").WithLocation(1).WithArguments("Hidden._count", "Hidden", "it is a private field, and the payload carries only constructor parameters and public settable properties"),
            D.Diagnostic("JOBS013").WithLocation(2).WithArguments("Hidden.Secret", "Hidden", "it is a private auto-property, and the payload carries only constructor parameters and public settable properties"),
            D.Diagnostic("JOBS013").WithLocation(3).WithArguments("Hidden.Internal", "Hidden", "it is an internal auto-property, and the payload carries only constructor parameters and public settable properties"),
            D.Diagnostic("JOBS013").WithLocation(4).WithArguments("Hidden.Shared", "Hidden", "it is a protected field, and the payload carries only constructor parameters and public settable properties"),
            D.Diagnostic("JOBS013").WithLocation(5).WithArguments("Part._hits", "Hidden", "it is a private field, and the payload carries only constructor parameters and public settable properties"),
            D.Diagnostic("JOBS013").WithLocation(6).WithArguments("Base._state", "Derived", "it is a private field, and the payload carries only constructor parameters and public settable properties"));

    [Fact]
    public Task JOBS014_generated_method_hidden_by_a_built_in_member()
        => D.AnalyzerAsync("""
            using Jobs.Sdk;
            namespace App;
            [Job("many")] public partial record {|#0:Many|}(int Value);
            [Job("job")] public partial record {|#1:Job|}(int Value);
            [Job("fine")] public partial record Mail(int Value);
            internal static partial class Outer { [Job("hidden")] private partial record Many(int Value); }
            """,
            D.Diagnostic("JOBS014").WithLocation(0).WithMessage(
                "The generated 'PushManyAsync' for job type 'Many' has the same name as JobQueue.PushManyAsync, which wins over the extension method: calls would silently run the built-in one; rename the job type"),
            D.Diagnostic("JOBS014").WithLocation(1).WithArguments("AddJob", "Job", "JobsBuilder.AddJob"));

    [Fact]
    public Task JOBS008_timeout_beyond_what_a_CancellationTokenSource_accepts()
        => D.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("too-long", {|#0:TimeoutSeconds = 4294968|})] public partial class TooLong { }
            [Job("longest", TimeoutSeconds = 4294967)] public partial class Longest { }
            """,
            D.Diagnostic("JOBS008").WithLocation(0).WithMessage(
                "TimeoutSeconds = 4294968 is invalid: it must be at most 4294967 (about 49.7 days, the longest timeout a CancellationTokenSource accepts)"));

    [Fact]
    public Task JOBS010_constructor_parameter_of_another_type_than_its_property()
        => D.AnalyzerAsync("""
            using Jobs.Sdk;
            namespace App;
            [Job("mismatch")]
            public partial class {|#0:Mismatch|}
            {
                public Mismatch(int count) => Count = count;
                public long Count { get; }
            }
            """,
            D.Diagnostic("JOBS010").WithLocation(0).WithMessage(
                "Job 'Mismatch' cannot be serialized by the generated serializer: type 'Mismatch': constructor parameter 'count' of 'App.Mismatch' is a 'int' but binds to property 'Count' of type 'long'; as with System.Text.Json, the types must be the same"));

    [Fact]
    public Task JOBS010_not_reported_for_user_types_under_System_or_Microsoft_root_namespaces()
        => D.AnalyzerAsync("""
            using Jobs.Sdk;
            namespace System.Acme { public sealed record Item(string Sku); }
            namespace Microsoft.Acme { public sealed record Box(int Size); }
            namespace App { [Job("acme")] public partial record AcmeJob(System.Acme.Item Item, Microsoft.Acme.Box Box); }
            """);

    [Fact]
    public Task JOBS001_not_reported_for_registration_through_the_users_generic_helper()
        => R.AnalyzerAsync(
            [
                """
                using System.Threading;
                using System.Threading.Tasks;
                using Jobs.Sdk;
                using Microsoft.Extensions.DependencyInjection;
                namespace App;
                [Job("send-email")] public partial record SendEmail(string To);
                [Job("resize")] public partial record Resize(int Width);
                [Job("unregistered")] public partial record Unregistered(int Width);
                public sealed class EmailHandler : IJobHandler<SendEmail>
                {
                    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }
                public sealed class ResizeHandler : IJobHandler<Resize>
                {
                    public Task HandleAsync(Resize job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }
                public sealed class UnregisteredHandler : IJobHandler<Unregistered>
                {
                    public Task HandleAsync(Unregistered job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }
                public static class Registration
                {
                    public static JobsBuilder Register<TJob, THandler>(this JobsBuilder jobs)
                        where TJob : IJob<TJob> where THandler : class, IJobHandler<TJob>
                        => jobs.AddJob<TJob, THandler>();

                    public static JobsBuilder RegisterVia<THandler, TJob>(JobsBuilder jobs)
                        where TJob : IJob<TJob> where THandler : class, IJobHandler<TJob>
                        => Register<TJob, THandler>(jobs);
                }
                public static class Program
                {
                    public static void Configure(IServiceCollection services)
                        => services.AddJobs(jobs => Registration.RegisterVia<ResizeHandler, Resize>(jobs.UseInMemory().Register<SendEmail, EmailHandler>()).AddWorkers());

                    public static async Task PushAsync(JobQueue queue)
                    {
                        await queue.PushAsync(new SendEmail("a@b.c"));
                        await queue.PushAsync(new Resize(10));
                        await {|#0:queue.PushAsync(new Unregistered(1))|};
                    }
                }
                """,
                Stubs.Job("SendEmail", "send-email"), Stubs.Job("Resize", "resize"), Stubs.Job("Unregistered", "unregistered"),
            ],
            null,
            R.Diagnostic("JOBS001").WithLocation(0).WithArguments("unregistered", "Unregistered"));
}
