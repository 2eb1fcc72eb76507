namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// The Jobs.Sdk members generated code calls are a compatibility contract: a Contracts assembly is compiled with the
/// generator of the Jobs.Sdk version it was built against, and runs against the (newer) Jobs.Sdk of the app that loads
/// it. A helper that generated code of an earlier version calls and that this version removed or changed fails there with
/// <see cref="MissingMethodException"/> at run time, not at compile time. GeneratedCodeContract.txt lists those members.
/// </summary>
public class GeneratedCodeContractTests
{
    /// <summary>Jobs of every shape the generator handles: their generated code calls every helper it can call.</summary>
    private const string Sample = """
        using System;
        using System.Collections.Generic;
        using System.Collections.Immutable;
        using System.Text.Json.Serialization;
        using System.Threading;
        using System.Threading.Tasks;
        using Jobs.Sdk;
        using Microsoft.Extensions.DependencyInjection;
        namespace Contract;
        public enum Mood { Calm, Angry }
        [Flags] public enum Access { None = 0, Read = 1, Write = 2 }
        public sealed record Child(string Name, int[] Scores, Point? At);
        public readonly record struct Point(double X, float Y);
        public class Pet { public string Name { get; set; } = ""; }
        [Job("all-types", MaxAttempts = 3, TimeoutSeconds = 10, Queue = "q")]
        public partial record AllTypes(
            bool B, byte U8, sbyte I8, short I16, ushort U16, int I32, uint U32, long I64, ulong U64, nint IP, nuint UP,
            float F, double D, decimal M, char C, string S, string? NS, Guid G, DateTime DT, DateTimeOffset DTO, DateOnly DO,
            TimeOnly TO, TimeSpan TS, Uri Link, Mood Mood, Access Access, Mood? MaybeMood, byte[] Blob, int? MaybeInt,
            List<Child> Children, Dictionary<string, double?> Map, HashSet<Guid> Ids,
            ImmutableArray<int> Frozen, ImmutableArray<int>? MaybeFrozen, Point Where, Pet Pet, IReadOnlyList<string> Names,
            [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Skipped = null, int Retries = 3)
        {
            [JsonRequired] public int Required { get; init; }
            public required string RequiredName { get; init; }
        }
        [Job("unique", Unique = true, UniqueFor = 60)]
        public partial record UniqueJob([property: UniqueKey] Guid Id, [property: UniqueKey] Mood Mood, [property: UniqueKey] DateTimeOffset At, string Note);
        [Job("limited", ConcurrencyLimit = 2)]
        public partial record Limited([property: ConcurrencyKey] string Tenant, [property: ConcurrencyKey] int Shard);
        [Job("whole", Unique = true)]
        public partial record Whole(Dictionary<string, int> Counts, List<string> Items);
        [Job("big", JsonContext = typeof(BigContext))]
        public partial record Big(Int128 Value);
        // Written by hand: the System.Text.Json generator does not run in this harness.
        public sealed class BigContext() : JsonSerializerContext(null)
        {
            public static BigContext Default { get; } = new();
            protected override System.Text.Json.JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override System.Text.Json.Serialization.Metadata.JsonTypeInfo? GetTypeInfo(Type type) => null;
        }
        public sealed class AllTypesHandler : IJobHandler<AllTypes>
        {
            public Task HandleAsync(AllTypes job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public sealed class Module
        {
            public Module(JobsBuilder jobs) => jobs.AddGeneratedJobs();
        }
        """;

    private static readonly string ContractFile = Path.Combine(AppContext.BaseDirectory, "GeneratedCodeContract.txt");

    private static IReadOnlySet<string> Contract => File.ReadAllLines(ContractFile)
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Every Jobs.Sdk type and member the generated code of <see cref="Sample"/> references.</summary>
    private static SortedSet<string> ReferencedBySample()
    {
        var output = GeneratorHarness.Run(Sample).AssertClean();
        // The generator skips a job it cannot serialize (the analyzer reports it): every sample job must be generated.
        foreach (var job in new[] { "AllTypes", "UniqueJob", "Limited", "Whole", "Big" })
        {
            var type = output.Compilation.GetTypeByMetadataName("Contract." + job)!;
            Assert.True(output.Files.ContainsKey($"Contract.{job}.g.cs"), $"{job}: {Generators.Shared.JobTypeSupport.FindProblem(type, hasJsonContext: job == "Big")?.Reason}");
        }

        using var stream = new MemoryStream();
        var emit = output.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        return MetadataSignatures.ReferencesInto(stream.ToArray(), "Jobs.Sdk");
    }

    [Fact]
    public void Every_Jobs_Sdk_member_generated_code_calls_is_listed_in_the_contract()
    {
        var missing = ReferencedBySample().Where(m => !Contract.Contains(m)).ToList();

        Assert.True(missing.Count == 0,
            "Generated code now calls Jobs.Sdk members the contract does not list. Contracts assemblies compiled with this " +
            "generator need them in every later Jobs.Sdk: add them to GeneratedCodeContract.txt (and never remove or change " +
            "them):\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_member_in_the_contract_still_exists_in_Jobs_Sdk()
    {
        var present = MetadataSignatures.Definitions(typeof(JobAttribute).Assembly.Location);

        var gone = Contract.Where(m => !present.Contains(m)).Order(StringComparer.Ordinal).ToList();

        Assert.True(gone.Count == 0,
            "Generated code of earlier Jobs.Sdk versions calls these members, which this Jobs.Sdk no longer has: a Contracts " +
            "assembly built against an earlier version fails with MissingMethodException (or TypeLoadException) when an app " +
            "using this version runs it. Keep them (obsolete, hidden, forwarding to the new code):\n" + string.Join("\n", gone));
    }
}
