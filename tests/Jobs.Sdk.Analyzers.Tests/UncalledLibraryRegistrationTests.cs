using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS025: a Worker that runs workers references a Handlers library whose generated registration (its internal
/// <c>AddGeneratedJobs()</c>, exposed by a public <c>JobsBuilder</c> extension) nothing in the Worker calls. Each project
/// is compiled with the real generator and analyzers and referenced as an image, as the build does.
/// </summary>
public class UncalledLibraryRegistrationTests
{
    private const string Usings = "using System; using System.Threading; using System.Threading.Tasks; using Jobs.Sdk; using Microsoft.Extensions.DependencyInjection;\n";

    private static readonly Lazy<Task<MetadataReference>> Contracts = new(async () => (await TestProjects.BuildAsync("Contracts", Usings + """
        namespace Contracts;
        [Job("send-email")] public partial record SendEmail(string To);
        [Job("resize")] public partial record Resize(int Width);
        """)).Image);

    /// <summary>The handlers of both Contracts jobs (one internal) and the ways the library offers to register them.</summary>
    private const string BillingSource = Usings + """
        namespace Billing;
        internal sealed class SendEmailHandler : IJobHandler<Contracts.SendEmail>
        {
            public Task HandleAsync(Contracts.SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public sealed class ResizeHandler : IJobHandler<Contracts.Resize>
        {
            public Task HandleAsync(Contracts.Resize job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public static class BillingSetup
        {
            public static JobsBuilder AddBillingHandlers(this JobsBuilder jobs) => jobs.AddGeneratedJobs();
            public static void Register(JobsBuilder jobs) => jobs.AddGeneratedJobs();
            public static IServiceCollection AddBilling(this IServiceCollection services, Action<JobsBuilder> configure)
                => services.AddJobs(jobs => configure(jobs.AddGeneratedJobs()));
        }
        """;

    private static readonly Lazy<Task<MetadataReference>> Billing = new(async () =>
    {
        var (image, diagnostics) = await TestProjects.BuildAsync("Billing", BillingSource, await Contracts.Value);
        Assert.Empty(diagnostics);
        return image;
    });

    private static async Task<IReadOnlyList<string>> BuildWorkerAsync(string body, params MetadataReference[] more)
    {
        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + "namespace Worker;\n" + body,
            [await Contracts.Value, await Billing.Value, .. more], runGenerator: true, externalJobs: null);
        return diagnostics;
    }

    [Fact]
    public async Task A_worker_that_never_calls_a_handlers_librarys_registration_gets_JOBS025_naming_the_library_its_jobs_and_the_call()
    {
        var diagnostics = await BuildWorkerAsync("""
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());
            }
            """);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("JOBS025@5: Library 'Billing' handles jobs 'resize', 'send-email', but this project runs workers (AddWorkers) and "
            + "never calls the library's JobsBuilder registration, so no worker here claims them: they wait, queued; "
            + "call jobs.AddBillingHandlers() here (or, if another service runs them, list them in 'jobs_sdk.external_jobs' in .editorconfig)",
            diagnostic);
    }

    [Fact]
    public async Task JOBS025_reads_a_librarys_reference_assembly()
    {
        // The build compiles a Worker against its libraries' reference assemblies: the generated registration class is
        // internal, and only its public AddGeneratedJobs() with its [JobRegistrationMethod] list tells the library's jobs.
        var contracts = await Contracts.Value;
        var (billing, _) = await TestProjects.BuildAsync("Billing", BillingSource, [contracts], runGenerator: true, externalJobs: null, referenceAssembly: true);

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());
            }
            """, contracts, billing);

        Assert.StartsWith("JOBS025@5: Library 'Billing' handles jobs 'resize', 'send-email', but", Assert.Single(diagnostics), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JOBS025_says_how_to_expose_a_registration_when_the_library_has_none()
    {
        var contracts = await Contracts.Value;
        var (payments, paymentsDiagnostics) = await TestProjects.BuildAsync("Acme.Payments", Usings + """
            namespace Acme.Payments;
            [Job("refund")] public partial record Refund(int Cents);
            internal sealed class RefundHandler : IJobHandler<Refund>
            {
                public Task HandleAsync(Refund job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """, contracts);
        Assert.Empty(paymentsDiagnostics);

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());
            }
            """, contracts, payments);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("JOBS025@5: Library 'Acme.Payments' handles job 'refund', but this project runs workers (AddWorkers) and "
            + "never calls the library's JobsBuilder registration, so no worker here claims them: they wait, queued; "
            + "the library exposes none (its AddGeneratedJobs() is internal): add 'public static JobsBuilder AddAcmePaymentsHandlers(this JobsBuilder jobs) => jobs.AddGeneratedJobs();' "
            + "to it and call jobs.AddAcmePaymentsHandlers() here (or, if another service runs them, list them in 'jobs_sdk.external_jobs' in .editorconfig)",
            diagnostic);
    }

    [Theory]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddBillingHandlers().AddWorkers())")]
    [InlineData("services.AddJobs(jobs => { Billing.BillingSetup.Register(jobs); jobs.UseInMemory().AddWorkers(); })")]
    [InlineData("services.AddJobs(jobs => { Action<JobsBuilder> register = Billing.BillingSetup.Register; register(jobs); jobs.UseInMemory().AddWorkers(); })")]
    [InlineData("services.AddBilling(jobs => jobs.UseInMemory().AddWorkers())")]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddJob<Contracts.Resize, Billing.ResizeHandler>().AddWorkers())")]
    public async Task No_JOBS025_when_the_worker_registers_the_librarys_handlers(string configure)
    {
        // Passes as written: the library's extension, a plain method or a method group taking the JobsBuilder, a setup
        // method taking the rest of the configuration, or the library's job registered by hand.
        var diagnostics = await BuildWorkerAsync($$"""
            using Billing;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => {{configure}};
            }
            """);

        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task No_JOBS025_when_another_library_of_the_solution_calls_the_registration()
    {
        // Passes as written.
        var (platform, platformDiagnostics) = await TestProjects.BuildAsync("Platform", Usings + """
            namespace Platform;
            using Billing;
            public static class PlatformSetup
            {
                public static JobsBuilder AddPlatform(this JobsBuilder jobs) => jobs.AddBillingHandlers();
            }
            """, await Contracts.Value, await Billing.Value);
        Assert.Empty(platformDiagnostics);

        var diagnostics = await BuildWorkerAsync("""
            using Platform;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddPlatform().AddWorkers());
            }
            """, platform);

        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task No_JOBS025_when_the_worker_calls_the_librarys_AddGeneratedJobs_as_its_friend()
    {
        // Passes as written: a library granting InternalsVisibleTo to the Worker, whose own AddGeneratedJobs() does not exist.
        var contracts = await Contracts.Value;
        var (friendly, friendlyDiagnostics) = await TestProjects.BuildAsync("Friendly", Usings + """
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Worker")]
            namespace Friendly;
            internal sealed class ResizeHandler : IJobHandler<Contracts.Resize>
            {
                public Task HandleAsync(Contracts.Resize job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """, contracts);
        Assert.Empty(friendlyDiagnostics);

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddGeneratedJobs().AddWorkers());
            }
            """, contracts, friendly);

        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task No_JOBS025_for_a_contracts_library_or_in_a_project_that_only_pushes()
    {
        // Passes as written: Contracts declares jobs but no handlers; the Web app never calls AddWorkers.
        var worker = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());
            }
            """, await Contracts.Value);
        var web = await TestProjects.BuildAsync("Web", Usings + """
            namespace Web;
            using Contracts;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory());
                public static async Task PushAsync(JobQueue queue) => await queue.PushResizeAsync(800);
            }
            """, await Contracts.Value, await Billing.Value);

        Assert.Empty(worker.Diagnostics);
        Assert.Empty(web.Diagnostics);
    }

    [Fact]
    public async Task No_JOBS025_for_a_library_without_the_generated_registration()
    {
        // Passes as written: a library whose handlers the generator did not list (built without its registration, as by a
        // generator without the marker) cannot be judged, so it is left alone.
        var contracts = await Contracts.Value;
        var (legacy, legacyDiagnostics) = await TestProjects.BuildAsync("Legacy", Usings + """
            namespace Legacy;
            public sealed class ResizeHandler : IJobHandler<Contracts.Resize>
            {
                public Task HandleAsync(Contracts.Resize job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            public static class LegacySetup
            {
                public static JobsBuilder AddLegacyHandlers(this JobsBuilder jobs) => jobs.AddJob<Contracts.Resize, ResizeHandler>();
            }
            """, [contracts], runGenerator: false, externalJobs: null);
        Assert.Empty(legacyDiagnostics);

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + """
            namespace Worker;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());
            }
            """, contracts, legacy);

        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task JOBS025_leaves_out_the_jobs_listed_as_external_and_is_silent_when_all_are()
    {
        const string Worker = Usings + """
            namespace Worker;
            public static class Program
            {
                public static void Configure(IServiceCollection services) => services.AddJobs(jobs => jobs.UseInMemory().AddWorkers());
            }
            """;
        MetadataReference[] references = [await Contracts.Value, await Billing.Value];

        var some = await TestProjects.BuildAsync("Worker", Worker, references, runGenerator: true, externalJobs: "resize");
        var all = await TestProjects.BuildAsync("Worker", Worker, references, runGenerator: true, externalJobs: "resize, Contracts.SendEmail");

        Assert.StartsWith("JOBS025@5: Library 'Billing' handles job 'send-email', but", Assert.Single(some.Diagnostics), StringComparison.Ordinal);
        Assert.Empty(all.Diagnostics);
    }
}
