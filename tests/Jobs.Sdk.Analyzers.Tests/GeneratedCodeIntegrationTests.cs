using System.Collections.Immutable;
using Jobs.Sdk.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// Runs the real Jobs.Sdk generator, then the analyzers over its output: the marker attributes and the generated-code
/// exclusion must work on what the generator actually emits, not only on hand-written stubs.
/// </summary>
public class GeneratedCodeIntegrationTests
{
    private const string Jobs = """
        using System.Threading;
        using System.Threading.Tasks;
        using Jobs.Sdk;
        using Microsoft.Extensions.DependencyInjection;

        namespace App;

        [Job("send-email")] public partial record SendEmail(string To, string Subject);
        [Job("resize")] public partial record ResizeImage(string Path, int Width);
        [Job("audit")] public partial record Audit(string Message);

        public sealed class SendEmailHandler : IJobHandler<SendEmail>
        {
            public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }

        public sealed class ResizeHandler : IJobHandler<ResizeImage>
        {
            public Task HandleAsync(ResizeImage job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }

        """;

    internal static async Task<(ImmutableArray<Diagnostic> Analyzer, ImmutableArray<Diagnostic> Compiler)> RunAsync(params string[] sources)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var compilation = CSharpCompilation.Create(
            "App",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"Source{i}.cs")),
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create([new JobGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        ImmutableArray<DiagnosticAnalyzer> analyzers = [new JobDeclarationAnalyzer(), new JobHandlerAnalyzer(), new JobRegistrationAnalyzer()];
        var analyzerDiagnostics = await output.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        return (analyzerDiagnostics, output.GetDiagnostics());
    }

    private static string Describe(Diagnostic d) => $"{d.Id}@{d.Location.GetLineSpan().StartLinePosition.Line + 1}";

    [Fact]
    public async Task Typed_push_of_job_without_handler_is_reported_and_generated_registrations_count()
    {
        var (analyzer, compiler) = await RunAsync(Jobs + """
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs.UseInMemory().AddSendEmail<SendEmailHandler>().AddResizeImage<ResizeHandler>().AddWorkers());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushSendEmailAsync("a@b.c", "hi");
                    await queue.PushResizeImageAsync(new ResizeImage("a.png", 10));
                    await queue.PushAuditAsync("x");
                }
            }
            """);

        Assert.Empty(compiler.Where(d => d.Severity == DiagnosticSeverity.Error));
        var diagnostic = Assert.Single(analyzer);
        Assert.Equal("JOBS001@30", Describe(diagnostic));
        Assert.Equal(
            "Job 'audit' (Audit) is pushed here, but this project runs workers (AddWorkers) and registers no handler for it; " +
            "register one (e.g. jobs.AddJob<Audit, THandler>()) or, if another service handles it, list it in 'jobs_sdk.external_jobs' in .editorconfig",
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task AddGeneratedJobs_covers_jobs_with_one_handler_only()
    {
        var (analyzer, compiler) = await RunAsync(Jobs + """
            public static class Program
            {
                public static void Configure(IServiceCollection services)
                    => services.AddJobs(jobs => jobs.UseInMemory().AddGeneratedJobs().AddWorkers());

                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushSendEmailAsync("a@b.c", "hi");
                    await queue.PushManyAsync(new[] { new ResizeImage("a.png", 10) });
                    await queue.PushAsync(new Audit("x"));
                }
            }
            """);

        Assert.Empty(compiler.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Equal(["JOBS001@30"], analyzer.Select(Describe));
    }

    [Fact]
    public async Task Producer_only_project_reports_nothing()
    {
        var (analyzer, compiler) = await RunAsync(Jobs + """
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory());

                public static async Task PushAsync(JobQueue queue) => await queue.PushAuditAsync("x");
            }
            """);

        Assert.Empty(compiler.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(analyzer);
    }
}
