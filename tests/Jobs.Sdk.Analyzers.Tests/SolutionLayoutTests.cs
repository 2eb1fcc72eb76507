using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// Multi-project layouts, each project compiled with the real generator and analyzers, referencing the ones before it
/// as compiled assemblies: a Contracts library with the <c>[Job]</c> records, a Web app that only pushes, a Handlers
/// library, and Worker apps.
/// </summary>
public class SolutionLayoutTests
{
    private const string Usings = "using System.Threading; using System.Threading.Tasks; using Jobs.Sdk; using Microsoft.Extensions.DependencyInjection;\n";

    private const string ContractsSource = Usings + """
        namespace Contracts;
        [Job("send-email")] public partial record SendEmail(string To);
        [Job("resize")] public partial record Resize(int Width);
        """;

    private static readonly Lazy<Task<MetadataReference>> Contracts = new(async () => (await TestProjects.BuildAsync("Contracts", ContractsSource)).Image);

    private static Task<(MetadataReference Image, IReadOnlyList<string> Diagnostics)> BuildHandlersAsync(MetadataReference contracts, string accessibility)
        => TestProjects.BuildAsync("Handlers", Usings + $$"""
            namespace Handlers;
            {{accessibility}} sealed class SendEmailHandler : IJobHandler<Contracts.SendEmail>
            {
                public Task HandleAsync(Contracts.SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            public static class HandlersSetup
            {
                public static JobsBuilder AddHandlers(this JobsBuilder jobs) => jobs.AddGeneratedJobs();
            }
            """, contracts);

    [Theory]
    [InlineData("public")]
    [InlineData("internal")]
    public async Task A_worker_registering_through_a_handlers_library_and_pushing_its_job_gets_no_JOBS001(string accessibility)
    {
        var contracts = await Contracts.Value;
        var (handlers, handlerDiagnostics) = await BuildHandlersAsync(contracts, accessibility);
        Assert.Empty(handlerDiagnostics);

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            using Contracts;
            using Handlers;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddHandlers().AddWorkers());
                public static async Task FollowUpAsync(JobQueue queue) => await queue.PushSendEmailAsync("a@b.c");
            }
            """, contracts, handlers);

        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task A_worker_pushing_a_job_no_referenced_library_handles_still_gets_JOBS001()
    {
        // Passes as written: the guard against the fix above hiding a real unregistered job.
        var contracts = await Contracts.Value;
        var (handlers, _) = await BuildHandlersAsync(contracts, "public");

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            using Contracts;
            using Handlers;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddHandlers().AddWorkers());
                public static async Task FollowUpAsync(JobQueue queue) => await queue.PushResizeAsync(800);
            }
            """, contracts, handlers);

        var diagnostic = Assert.Single(diagnostics);
        Assert.StartsWith("JOBS001@8: Job 'resize' (Resize) is pushed here", diagnostic, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_push_only_web_app_referencing_contracts_compiles_clean_with_typed_push_methods()
    {
        // Passes as written.
        var contracts = await Contracts.Value;

        var (_, diagnostics) = await TestProjects.BuildAsync("Web", Usings + """
            namespace Web;
            using Contracts;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory());
                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushSendEmailAsync("a@b.c");
                    await queue.PushResizeAsync(new Resize(800), transaction: null!);
                }
            }
            """, contracts);

        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task A_worker_with_handlers_for_contracts_jobs_registers_them_with_AddGeneratedJobs_and_reports_the_one_it_lacks()
    {
        // Passes as written.
        var contracts = await Contracts.Value;

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            using Contracts;
            public sealed class SendEmailHandler : IJobHandler<SendEmail>
            {
                public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddGeneratedJobs().AddWorkers());
                public static async Task PushAsync(JobQueue queue)
                {
                    await queue.PushSendEmailAsync("a@b.c");
                    await queue.PushResizeAsync(800);
                }
            }
            """, contracts);

        var diagnostic = Assert.Single(diagnostics);
        Assert.StartsWith("JOBS001@14: Job 'resize' (Resize)", diagnostic, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_named_like_a_referenced_library_job_is_JOBS003()
    {
        var contracts = await Contracts.Value;

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            [Job("send-email")] public partial record LocalSendEmail(string To, bool Urgent);
            """, contracts);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("JOBS003@3: Job name 'send-email' of 'Worker.LocalSendEmail' is also used by 'Contracts.SendEmail (in Contracts)'; job names must be unique", diagnostic);
    }
}
