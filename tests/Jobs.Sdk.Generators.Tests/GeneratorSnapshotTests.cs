namespace Jobs.Sdk.Generators.Tests;

public class GeneratorSnapshotTests
{
    [Fact]
    public void RecordJobWithPrimaryConstructor()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;

            namespace Shop.Jobs;

            /// <summary>Sends a test message.</summary>
            /// <param name="Value">How many times.</param>
            /// <param name="Name">Who to greet.</param>
            [Job("test", MaxAttempts = 5, TimeoutSeconds = 30)]
            public partial record TestJob(int Value, string Name, string? Note = null);
            """).AssertClean();

        Snapshot.Verify(output.Files["Shop.Jobs.TestJob.g.cs"], "Shop.Jobs.TestJob.g.cs");
    }

    [Fact]
    public void ClassJobWithNestedTypesAndCollections()
    {
        var output = GeneratorHarness.Run("""
            using System;
            using System.Collections.Generic;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;

            namespace Shop.Jobs;

            public enum Carrier { Post, Courier }

            public sealed record Line(string Sku, int Quantity, decimal Price);

            [Job("ship-order")]
            internal sealed partial class ShipOrder
            {
                public required Guid OrderId { get; init; }
                [JsonPropertyName("lines")] public List<Line> Items { get; init; } = [];
                public Carrier Carrier { get; set; } = Carrier.Post;
                public Dictionary<string, string>? Tags { get; init; }
                public DateTimeOffset? NotBefore { get; set; }
                public int Computed => Items.Count;
            }
            """).AssertClean();

        Snapshot.Verify(output.Files["Shop.Jobs.ShipOrder.g.cs"], "Shop.Jobs.ShipOrder.g.cs");
    }

    [Fact]
    public void StructJobInGlobalNamespace()
    {
        var output = GeneratorHarness.Run("""
            [Jobs.Sdk.Job("tick")]
            public readonly partial record struct Tick(long Sequence, System.TimeSpan Interval, byte[]? Payload);
            """).AssertClean();

        Snapshot.Verify(output.Files["Tick.g.cs"], "Tick.g.cs");
    }

    [Fact]
    public void InitPropertiesOfGenericTypesUseGenericAccessors()
    {
        // The runtime binds an [UnsafeAccessor] of a generic type only from a generic class with the same type parameters
        // and constraints; a job deriving from a generic base record, and a generic member type, get one each.
        var output = GeneratorHarness.Run("""
            using System;
            using Jobs.Sdk;
            namespace Shop.Jobs;
            public abstract record JobBase<TResult> where TResult : notnull, IComparable<TResult> { public TResult? Expected { get; init; } }
            public sealed record Envelope<T>(T Value) where T : class, new() { public int Version { get; init; } }
            public sealed record Item { public int Number { get; init; } }
            [Job("audit")]
            public sealed partial record Audit(Envelope<Item> Envelope) : JobBase<long>;
            """).AssertClean();

        Snapshot.Verify(output.Files["Shop.Jobs.Audit.g.cs"], "Shop.Jobs.Audit.g.cs");
    }

    [Fact]
    public void JobWithJsonContextForOtherTypes()
    {
        var output = GeneratorHarness.Run("""
            using System.Numerics;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;

            namespace Maths;

            [Job("big", JsonContext = typeof(MathsJsonContext))]
            public partial record BigJob(BigInteger Value, int Scale);

            [JsonSerializable(typeof(BigInteger))]
            public partial class MathsJsonContext : JsonSerializerContext;
            """);

        // The STJ generator does not run in this harness, so the context's Default is missing: only check the text.
        Snapshot.Verify(output.Files["Maths.BigJob.g.cs"], "Maths.BigJob.g.cs");
    }

    [Fact]
    public void RegistrationWithHandlers()
    {
        var output = GeneratorHarness.Run("""
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;

            namespace App;

            [Job("a")] public partial record JobA(int X);
            [Job("b")] public partial record JobB(string Y);
            [Job("c")] public partial record JobC(string Z);

            public sealed class JobAHandler : IJobHandler<JobA>
            {
                public Task HandleAsync(JobA job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }

            internal sealed class JobBHandler : IJobHandler<JobB>
            {
                public Task HandleAsync(JobB job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }

            public abstract class AbstractHandler : IJobHandler<JobC>
            {
                public abstract Task HandleAsync(JobC job, JobContext context, CancellationToken cancellationToken);
            }
            """).AssertClean();

        Snapshot.Verify(output.Files["JobsRegistration.g.cs"], "JobsRegistration.g.cs");
    }

    [Fact]
    public void RegistrationWithCallers()
    {
        var output = GeneratorHarness.Run("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;
            using Microsoft.Extensions.DependencyInjection;

            namespace App;

            [Job("a")] public partial record JobA(int X);

            internal sealed class JobAHandler : IJobHandler<JobA>
            {
                public Task HandleAsync(JobA job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }

            public static class AppJobs
            {
                // Listed: the call is in a lambda of its body, in a local function of its body.
                public static IServiceCollection AddAppJobs(this IServiceCollection services) => services.AddJobs(jobs => jobs.AddGeneratedJobs());
                public static void Configure(JobsBuilder jobs) { Register(); void Register() => jobs.AddGeneratedJobs(); }

                // Not listed: a property, a private method, a call of a method of the user's own named so.
                public static Action<JobsBuilder> Registration => jobs => jobs.AddGeneratedJobs();
                private static void Hidden(JobsBuilder jobs) => jobs.AddGeneratedJobs();
                public static void Other() => Lookalike.AddGeneratedJobs(1);
                public static void UsesHidden(JobsBuilder jobs) => Hidden(jobs);
            }

            public static class Lookalike
            {
                public static void AddGeneratedJobs(int x) { }
            }

            public sealed class AppModule
            {
                public AppModule(JobsBuilder jobs) => jobs.AddGeneratedJobs();
            }
            """).AssertClean();

        var registration = output.Files["JobsRegistration.g.cs"];
        Snapshot.Verify(registration, "JobsRegistration.g.cs");
        Assert.Contains("[global::Jobs.Sdk.Infrastructure.JobRegistrationCallers(\"M:App.AppJobs.AddAppJobs(Microsoft.Extensions.DependencyInjection.IServiceCollection)\", "
            + "\"M:App.AppJobs.Configure(Jobs.Sdk.JobsBuilder)\", \"M:App.AppModule.#ctor(Jobs.Sdk.JobsBuilder)\")]", registration, StringComparison.Ordinal);
    }
}
