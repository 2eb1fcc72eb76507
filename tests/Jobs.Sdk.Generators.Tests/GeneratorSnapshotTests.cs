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
            using System;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;

            namespace Maths;

            [Job("big", JsonContext = typeof(MathsJsonContext))]
            public partial record BigJob(Int128 Value, int Scale);

            [JsonSerializable(typeof(Int128))]
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
            using Setup = App.AppJobs;

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

                // Listed: a property's getter (the call is in the lambda it returns).
                public static Action<JobsBuilder> Registration => jobs => jobs.AddGeneratedJobs();

                public static Action<JobsBuilder> Current { get => jobs => jobs.AddGeneratedJobs(); set { } }

                // Listed through the members they call: a private method's caller, a wrapper of a wrapper, a read of a
                // listed getter, a method group of a listed method.
                private static void Hidden(JobsBuilder jobs) => jobs.AddGeneratedJobs();
                public static void UsesHidden(JobsBuilder jobs) => Hidden(jobs);
                public static IServiceCollection AddAll(this IServiceCollection services) => services.AddAppJobs();
                public static IServiceCollection AddByProperty(this IServiceCollection services) => services.AddJobs(Registration);
                public static IServiceCollection AddByGroup(this IServiceCollection services) => services.AddJobs(Configure);
                public static IServiceCollection AddByTypeName(IServiceCollection services) => AppJobs.AddAppJobs(services);
                public static IServiceCollection AddByAlias(IServiceCollection services) => Setup.AddAppJobs(services);

                // Not listed: a call of a method of the user's own named so, a nameof, an assignment of a listed property, a call of
                // another type's method of the same name.
                public static void Other() => Lookalike.AddGeneratedJobs(1);
                public static string Name => nameof(AddAll);
                public static void Assigns() => Current = null!;
                public static IServiceCollection NotByLookalike(IServiceCollection services) => Lookalike.AddAppJobs(services);
            }

            public static class Lookalike
            {
                public static void AddGeneratedJobs(int x) { }
                public static IServiceCollection AddAppJobs(IServiceCollection services) => services;
            }

            public sealed class AppModule
            {
                public AppModule(JobsBuilder jobs) => jobs.AddGeneratedJobs();

                // Listed: chained to a constructor that calls it; creating one without naming its type.
                public AppModule(JobsBuilder jobs, int order) : this(jobs) => _ = order;
                public static AppModule Create(JobsBuilder jobs)
                {
                    AppModule module = new(jobs);
                    return module;
                }
            }

            public interface IInstaller
            {
                void Install(JobsBuilder jobs);
            }

            public class Installer : IInstaller
            {
                // Listed: Register calls a listed method; Sealed calls it through base. Not listed: Install calls a virtual
                // method (an override may not register), ByInterface an interface method (any implementation may run).
                public void Install(JobsBuilder jobs) => Register(jobs);
                protected virtual void Register(JobsBuilder jobs) => AppJobs.Configure(jobs);
                public static void ByInterface(IInstaller installer, JobsBuilder jobs) => installer.Install(jobs);
            }

            public sealed class SealedInstaller : Installer
            {
                public void Sealed(JobsBuilder jobs) => base.Register(jobs);
            }
            """).AssertClean();

        var registration = output.Files["JobsRegistration.g.cs"];
        Snapshot.Verify(registration, "JobsRegistration.g.cs");
        Assert.Contains("[global::Jobs.Sdk.Infrastructure.JobRegistrationCallers("
            + "\"M:App.AppJobs.AddAll(Microsoft.Extensions.DependencyInjection.IServiceCollection)\", "
            + "\"M:App.AppJobs.AddAppJobs(Microsoft.Extensions.DependencyInjection.IServiceCollection)\", "
            + "\"M:App.AppJobs.AddByAlias(Microsoft.Extensions.DependencyInjection.IServiceCollection)\", "
            + "\"M:App.AppJobs.AddByGroup(Microsoft.Extensions.DependencyInjection.IServiceCollection)\", "
            + "\"M:App.AppJobs.AddByProperty(Microsoft.Extensions.DependencyInjection.IServiceCollection)\", "
            + "\"M:App.AppJobs.AddByTypeName(Microsoft.Extensions.DependencyInjection.IServiceCollection)\", "
            + "\"M:App.AppJobs.Configure(Jobs.Sdk.JobsBuilder)\", \"M:App.AppJobs.UsesHidden(Jobs.Sdk.JobsBuilder)\", "
            + "\"M:App.AppJobs.get_Current\", \"M:App.AppJobs.get_Registration\", "
            + "\"M:App.AppModule.#ctor(Jobs.Sdk.JobsBuilder)\", \"M:App.AppModule.#ctor(Jobs.Sdk.JobsBuilder,System.Int32)\", "
            + "\"M:App.AppModule.Create(Jobs.Sdk.JobsBuilder)\", "
            + "\"M:App.Installer.Register(Jobs.Sdk.JobsBuilder)\", \"M:App.SealedInstaller.Sealed(Jobs.Sdk.JobsBuilder)\")]",
            registration, StringComparison.Ordinal);
    }
}
