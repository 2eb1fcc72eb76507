using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS025 and JOBS001 when the Worker reaches a Billing library's registration only through a Platform library: Platform's
/// <c>services.AddPlatform()</c> calls Billing's wrapper (listed in Billing's <c>[JobRegistrationCallers]</c>) or Billing's
/// <c>AddGeneratedJobs()</c> as its friend, and the Worker calls only <c>AddPlatform()</c>. Every project is compiled with
/// the real generator and analyzers and referenced as an image or as a reference assembly (no method bodies), as the build does.
/// </summary>
public class CrossLibraryRegistrationTests
{
    private const string Usings = "using System; using System.Linq; using System.Threading; using System.Threading.Tasks; using Jobs.Sdk; using Microsoft.Extensions.DependencyInjection;\n";

    private static readonly Lazy<Task<MetadataReference>> Contracts = new(async () => (await TestProjects.BuildAsync("Contracts", Usings + """
        namespace Contracts;
        [Job("charge-card")] public partial record ChargeCard(int Cents);
        [Job("audit-entry")] public partial record AuditEntry(int Id);
        """)).Image);

    private static string BillingSource(bool friendOfPlatform) => Usings + (friendOfPlatform ? "[assembly: System.Runtime.CompilerServices.InternalsVisibleTo(\"Platform\")]\n" : "") + """
        namespace Billing;
        internal sealed class ChargeCardHandler : IJobHandler<Contracts.ChargeCard>
        {
            public Task HandleAsync(Contracts.ChargeCard job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public static class BillingServices
        {
            public static IServiceCollection AddBillingJobs(this IServiceCollection services)
            {
                (services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()
                    ?? throw new InvalidOperationException("Call AddJobs before AddBillingJobs.")).AddGeneratedJobs();
                return services;
            }

            public static IServiceCollection AddBillingOptions(this IServiceCollection services) => services;
        }
        """;

    /// <summary>Platform, a composition library with no jobs of its own: its members reach Billing's registration or do not.</summary>
    private const string PlatformSource = Usings + """
        namespace Platform;
        using Billing;
        public static class PlatformServices
        {
            /// <summary>Billing through its wrapper.</summary>
            public static IServiceCollection AddPlatform(this IServiceCollection services) => services.AddBillingOptions().AddBillingJobs();

            /// <summary>Billing through a private helper of Platform's calling its wrapper.</summary>
            public static IServiceCollection AddPlatformThroughHelper(this IServiceCollection services)
            {
                Register(services);
                return services;
            }

            /// <summary>Registers nothing of Billing's.</summary>
            public static IServiceCollection AddPlatformOptions(this IServiceCollection services) => services.AddBillingOptions();

            private static void Register(IServiceCollection services) => Billing.BillingServices.AddBillingJobs(services);
        }
        """;

    /// <summary>Platform calling Billing's generated AddGeneratedJobs() as Billing's friend (InternalsVisibleTo).</summary>
    private const string FriendPlatformSource = Usings + """
        namespace Platform;
        using Billing;
        public static class PlatformServices
        {
            public static IServiceCollection AddPlatform(this IServiceCollection services)
            {
                (services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()
                    ?? throw new InvalidOperationException("Call AddJobs before AddPlatform.")).AddGeneratedJobs();
                return services;
            }
        }
        """;

    /// <summary>Platform with a job handler of its own, registering both its own handlers and Billing's.</summary>
    private const string PlatformWithJobsSource = Usings + """
        namespace Platform;
        using Billing;
        internal sealed class AuditEntryHandler : IJobHandler<Contracts.AuditEntry>
        {
            public Task HandleAsync(Contracts.AuditEntry job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public sealed class PlatformModule
        {
            public PlatformModule(IServiceCollection services)
            {
                services.AddBillingJobs();
                (services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()
                    ?? throw new InvalidOperationException("Call AddJobs before creating the PlatformModule.")).AddGeneratedJobs();
            }
        }
        public static class PlatformServices
        {
            public static IServiceCollection AddPlatform(this IServiceCollection services)
            {
                _ = new PlatformModule(services);
                return services;
            }
        }
        """;

    /// <summary>
    /// Platform as Billing's friend with a handler of its own: <c>jobs.AddGeneratedJobs()</c> runs Platform's registration,
    /// Billing's only when called on its generated class.
    /// </summary>
    private static string FriendPlatformWithJobsSource(string call) => Usings + $$"""
        namespace Platform;
        internal sealed class AuditEntryHandler : IJobHandler<Contracts.AuditEntry>
        {
            public Task HandleAsync(Contracts.AuditEntry job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public static class PlatformServices
        {
            public static IServiceCollection AddPlatform(this IServiceCollection services)
            {
                var jobs = services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()
                    ?? throw new InvalidOperationException("Call AddJobs before AddPlatform.");
                {{call}};
                return services;
            }
        }
        """;

    /// <summary>Suite, a library above Platform: Billing two libraries away.</summary>
    private const string SuiteSource = Usings + """
        namespace Suite;
        using Platform;
        public static class SuiteServices
        {
            public static IServiceCollection AddSuite(this IServiceCollection services) => services.AddPlatform();
        }
        """;

    private static async Task<IReadOnlyList<string>> BuildWorkerAsync(string platformSource, string configure, bool referenceAssembly,
        bool friend = false, bool suite = false, string members = "")
    {
        var contracts = await Contracts.Value;
        var (billing, billingDiagnostics) = await TestProjects.BuildAsync("Billing", BillingSource(friend), [contracts],
            runGenerator: true, externalJobs: null, referenceAssembly: referenceAssembly);
        AssertNone(billingDiagnostics);
        var (platform, platformDiagnostics) = await TestProjects.BuildAsync("Platform", platformSource, [contracts, billing],
            runGenerator: true, externalJobs: null, referenceAssembly: referenceAssembly);
        AssertNone(platformDiagnostics);
        MetadataReference[] references = [contracts, billing, platform];
        if (suite)
        {
            var (suiteImage, suiteDiagnostics) = await TestProjects.BuildAsync("Suite", SuiteSource, references,
                runGenerator: true, externalJobs: null, referenceAssembly: referenceAssembly);
            AssertNone(suiteDiagnostics);
            references = [.. references, suiteImage];
        }

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + $$"""
            namespace Worker;
            using Platform;
            public static class Program
            {
                public static void Configure(IServiceCollection services) { {{configure}}; }
                {{members}}
            }
            """, references);
        return diagnostics;
    }

    [Theory]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatform()", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatform()", true)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatformThroughHelper()", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatformThroughHelper()", true)]
    public async Task No_JOBS025_when_the_worker_calls_a_member_of_another_library_that_calls_the_librarys_wrapper(string configure, bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync(PlatformSource, configure, referenceAssembly);

        AssertNone(diagnostics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_JOBS025_when_the_worker_calls_a_member_of_a_friend_library_that_calls_the_librarys_AddGeneratedJobs(bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync(FriendPlatformSource, "services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatform()",
            referenceAssembly, friend: true);

        AssertNone(diagnostics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_JOBS025_when_a_library_with_jobs_of_its_own_registers_them_and_another_librarys(bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync(PlatformWithJobsSource, "services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatform()",
            referenceAssembly);

        AssertNone(diagnostics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_JOBS025_when_a_friend_library_with_jobs_of_its_own_calls_the_librarys_AddGeneratedJobs_on_its_class(bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync(FriendPlatformWithJobsSource("Microsoft.Extensions.DependencyInjection.BillingGeneratedJobsExtensions.AddGeneratedJobs(jobs); jobs.AddGeneratedJobs()"),
            "services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatform()", referenceAssembly, friend: true);

        AssertNone(diagnostics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task JOBS025_when_a_friend_library_with_jobs_of_its_own_calls_only_its_own_AddGeneratedJobs(bool referenceAssembly)
    {
        // jobs.AddGeneratedJobs() binds to Billing's in the generator's view (Platform's is not generated yet), to Platform's
        // in the build: it registers Platform's handlers, not Billing's.
        var diagnostics = await BuildWorkerAsync(FriendPlatformWithJobsSource("jobs.AddGeneratedJobs()"),
            "services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatform()", referenceAssembly, friend: true);

        Assert.True(diagnostics.Count == 1, string.Join(" | ", diagnostics));
        Assert.StartsWith("JOBS025@", diagnostics[0], StringComparison.Ordinal);
        Assert.Contains("Library 'Billing' handles job 'charge-card', but", diagnostics[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_JOBS025_when_the_library_is_reached_through_two_other_libraries(bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync(PlatformSource,
            "global::Suite.SuiteServices.AddSuite(services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()))", referenceAssembly, suite: true);

        AssertNone(diagnostics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_JOBS001_for_a_pushed_job_whose_library_another_library_registers(bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync(PlatformSource, "services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatform()", referenceAssembly,
            members: "public static async Task PushAsync(JobQueue queue) => await queue.PushAsync(new Contracts.ChargeCard(100));");

        AssertNone(diagnostics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task JOBS025_when_the_worker_calls_only_members_of_another_library_that_do_not_reach_the_librarys_registration(bool referenceAssembly)
    {
        // Passes as written, and is kept so: AddPlatformOptions calls Billing's AddBillingOptions, which registers nothing.
        var diagnostics = await BuildWorkerAsync(PlatformSource, "services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddPlatformOptions()",
            referenceAssembly);

        Assert.True(diagnostics.Count == 1, string.Join(" | ", diagnostics));
        Assert.StartsWith("JOBS025@", diagnostics[0], StringComparison.Ordinal);
        Assert.Contains("Library 'Billing' handles job 'charge-card', but", diagnostics[0], StringComparison.Ordinal);
    }

    /// <summary>Fails with every diagnostic in full (xUnit's Assert.Empty cuts them short).</summary>
    private static void AssertNone(IReadOnlyList<string> diagnostics)
        => Assert.True(diagnostics.Count == 0, string.Join(" | ", diagnostics));
}
