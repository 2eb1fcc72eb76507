using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Jobs.Sdk;
using Jobs.Sdk.Analyzers;
using Jobs.Sdk.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

// Builds a 200-job project (jobs, handlers, generated registrations and pushes), runs the real generator, then compares
// compiler-only diagnostics with compiler + Jobs.Sdk analyzers. Prints median wall-clock times and per-analyzer CPU time.
var JobCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var Runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;

var references = LoadReferences();
var parse = new CSharpParseOptions(LanguageVersion.Preview);
var sources = Enumerable.Range(0, JobCount).Select(i => CSharpSyntaxTree.ParseText(JobSource(i), parse, path: $"Job{i}.cs")).ToList();
sources.Add(CSharpSyntaxTree.ParseText(ProgramSource(JobCount), parse, path: "Program.cs"));
var compilation = CSharpCompilation.Create("Perf", sources, references,
    new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
CSharpGeneratorDriver.Create([new JobGenerator().AsSourceGenerator()], parseOptions: parse)
    .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);

Console.WriteLine($"generated: {generated.SyntaxTrees.Count()} trees");
var errors = generated.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
if (errors.Count > 0)
{
    Console.WriteLine($"compile errors: {errors.Count}; first: {errors[0]}");
    return 1;
}

ImmutableArray<DiagnosticAnalyzer> analyzers = [new JobDeclarationAnalyzer(), new JobHandlerAnalyzer(), new JobRegistrationAnalyzer()];
var without = new List<double>();
var with = new List<double>();
var withoutCpu = new List<double>();
var withCpu = new List<double>();
var reported = 0;
var process = Process.GetCurrentProcess();
for (var run = 0; run < Runs + 1; run++)
{
    // A fresh compilation each run (Clone drops cached binding) so both sides pay for binding. Sequential analysis so the
    // process CPU time is comparable; wall-clock times are also printed but the machine may be shared.
    var c1 = generated.Clone();
    var cpu = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    _ = c1.GetDiagnostics();
    var t1 = sw.Elapsed.TotalMilliseconds;
    process.Refresh();
    var cpu1 = (process.TotalProcessorTime - cpu).TotalMilliseconds;

    var c2 = generated.Clone();
    cpu = process.TotalProcessorTime;
    sw.Restart();
    var withAnalyzers = c2.WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(
        new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false));
    var all = await withAnalyzers.GetAllDiagnosticsAsync();
    var t2 = sw.Elapsed.TotalMilliseconds;
    process.Refresh();
    var cpu2 = (process.TotalProcessorTime - cpu).TotalMilliseconds;
    reported = all.Count(d => d.Id.StartsWith("JOBS", StringComparison.Ordinal));

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: compiler {t1:F0} ms wall / {cpu1:F0} ms cpu; compiler+analyzers {t2:F0} ms wall / {cpu2:F0} ms cpu"));
    if (run == 0)
    {
        continue; // warm-up
    }

    without.Add(t1);
    with.Add(t2);
    withoutCpu.Add(cpu1);
    withCpu.Add(cpu2);
}

// Same analyzer-driver machinery with a no-op analyzer: the difference to "compiler + analyzers" is what the Jobs.Sdk
// analyzers themselves cost (CompilationWithAnalyzers re-binds the compilation either way).
var noOp = new List<double>();
for (var run = 0; run < Runs + 1; run++)
{
    var c3 = generated.Clone();
    var cpu = process.TotalProcessorTime;
    _ = await c3.WithAnalyzers([new NoOpAnalyzer()], new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), null, false, false))
        .GetAllDiagnosticsAsync();
    process.Refresh();
    if (run > 0)
    {
        noOp.Add((process.TotalProcessorTime - cpu).TotalMilliseconds);
    }
}

// Roslyn's own per-analyzer execution time (the figure IDEs show), from one sequential run.
var telemetryRun = generated.Clone().WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), null, false, true));
var analysis = await telemetryRun.GetAnalysisResultAsync(CancellationToken.None);
foreach (var (analyzer, info) in analysis.AnalyzerTelemetryInfo)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {analyzer.GetType().Name,-26} execution time {info.ExecutionTime.TotalMilliseconds,8:F1} ms (operation actions {info.OperationActionsCount}, symbol actions {info.SymbolActionsCount})"));
}

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{JobCount} jobs, {generated.SyntaxTrees.Count()} syntax trees (with generated), {Runs} runs, JOBS diagnostics reported: {reported}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compiler diagnostics only:      median {Median(without),8:F1} ms wall, {Median(withoutCpu),8:F1} ms cpu"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compiler + Jobs.Sdk analyzers:  median {Median(with),8:F1} ms wall, {Median(withCpu),8:F1} ms cpu"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compiler + no-op analyzer:      median {"",8}    wall, {Median(noOp),8:F1} ms cpu"));

return 0;

static string JobSource(int i) => $$"""
    using System;
    using System.Collections.Generic;
    using System.Threading;
    using System.Threading.Tasks;
    using Jobs.Sdk;

    namespace Perf.Jobs{{i % 10}};

    [Job("job-{{i}}", MaxAttempts = 3)]
    public partial record Job{{i}}(string Name, int Count, Guid Id, DateTimeOffset At, List<string> Tags, Dictionary<string, int> Counts, Line{{i}}[] Lines);

    public sealed record Line{{i}}(string Sku, decimal Price, int? Quantity);

    public sealed class Job{{i}}Handler : IJobHandler<Job{{i}}>
    {
        public async Task HandleAsync(Job{{i}} job, JobContext context, CancellationToken cancellationToken)
        {
            await Task.Delay(1, cancellationToken);
            Console.WriteLine(job.Name);
        }
    }
    """;

static string ProgramSource(int jobCount)
{
    var builder = new StringBuilder(string.Concat(Enumerable.Range(0, 10).Select(n => $"using Perf.Jobs{n};\n")));
    builder.Append("""
        using System.Threading.Tasks;
        using Jobs.Sdk;
        using Microsoft.Extensions.DependencyInjection;

        public static class Program
        {
            public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs
                .UseInMemory()

        """);
    for (var i = 0; i < jobCount - 1; i++) // the last job is left unregistered: exactly one JOBS001 proves the analyzers ran
    {
        builder.Append(CultureInfo.InvariantCulture, $"        .AddJob{i}<Perf.Jobs{i % 10}.Job{i}Handler>()\n");
    }

    builder.Append("        .AddWorkers());\n\n    public static async Task PushAllAsync(JobQueue queue)\n    {\n");
    for (var i = 0; i < jobCount; i++)
    {
        builder.Append(CultureInfo.InvariantCulture, $"        await queue.PushJob{i}Async(new Perf.Jobs{i % 10}.Job{i}(\"n\", 1, System.Guid.Empty, default, [], [], []));\n");
    }

    return builder.Append("    }\n}\n").ToString();
}

static ImmutableArray<MetadataReference> LoadReferences()
{
    var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
    var dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
    var packRoot = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
    var version = Directory.GetDirectories(packRoot).Select(Path.GetFileName)
        .Where(v => v!.StartsWith(Environment.Version.Major + ".", StringComparison.Ordinal)).Order().Last()!;
    var refDir = Path.Combine(packRoot, version, "ref", "net" + Environment.Version.Major + ".0");
    var list = Directory.GetFiles(refDir, "*.dll").Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    list.Add(MetadataReference.CreateFromFile(typeof(JobAttribute).Assembly.Location));
    list.Add(MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location));
    list.Add(MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Hosting.IHostedService).Assembly.Location));
    list.Add(MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location));
    return [.. list];
}

/// <summary>Registers one empty action so the analyzer driver runs its full pipeline.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
internal sealed class NoOpAnalyzer : DiagnosticAnalyzer
{
    private static readonly DiagnosticDescriptor Rule = new("NOOP001", "No-op", "No-op", "Perf", DiagnosticSeverity.Hidden, true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterOperationAction(_ => { }, OperationKind.Invocation);
    }
}
