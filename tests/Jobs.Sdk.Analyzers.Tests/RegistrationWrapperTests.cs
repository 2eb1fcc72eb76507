using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS025 and a Handlers library whose generated <c>AddGeneratedJobs()</c> the Worker reaches through a wrapper that does
/// not take the <c>JobsBuilder</c>: an <c>IServiceCollection</c> extension or a constructor whose body, in the library,
/// calls it. Each project is compiled with the real generator and analyzers and referenced as an image or as a reference
/// assembly (no method bodies), as the build does.
/// </summary>
public class RegistrationWrapperTests
{
    private const string Usings = "using System; using System.Linq; using System.Threading; using System.Threading.Tasks; using Jobs.Sdk; using Microsoft.Extensions.DependencyInjection;\n";

    private static readonly Lazy<Task<MetadataReference>> Contracts = new(async () => (await TestProjects.BuildAsync("Contracts", Usings + """
        namespace Contracts;
        [Job("charge-card")] public partial record ChargeCard(int Cents);
        """)).Image);

    /// <summary>Billing's handler, the wrappers around its registration, and public members that register nothing.</summary>
    private const string BillingSource = Usings + """
        namespace Billing;
        internal sealed class ChargeCardHandler : IJobHandler<Contracts.ChargeCard>
        {
            public Task HandleAsync(Contracts.ChargeCard job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public static class BillingServices
        {
            /// <summary>Adds Billing's handlers to the JobsBuilder AddJobs registered.</summary>
            public static IServiceCollection AddBillingJobs(this IServiceCollection services)
            {
                var jobs = services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()
                    ?? throw new InvalidOperationException("Call AddJobs before AddBillingJobs.");
                jobs.AddGeneratedJobs();
                return services;
            }

            /// <summary>Registers what Billing's handlers use; registers no job.</summary>
            public static IServiceCollection AddBillingOptions(this IServiceCollection services) => services.AddSingleton(new BillingOptions());
        }
        public sealed class BillingOptions
        {
            public int RetryCents { get; set; }
        }
        public sealed class BillingModule
        {
            public BillingModule() { }
            public BillingModule(JobsBuilder jobs) => jobs.AddGeneratedJobs();
            public BillingModule(IServiceCollection services)
                => (services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()
                    ?? throw new InvalidOperationException("Call AddJobs before creating the BillingModule.")).AddGeneratedJobs();
            public BillingModule(IServiceCollection services, int retryCents) : this(services) => services.AddSingleton(new BillingOptions { RetryCents = retryCents });
        }
        public static class BillingSetup
        {
            /// <summary>Billing's options and handlers: a wrapper of the wrapper AddBillingJobs.</summary>
            public static IServiceCollection AddBilling(this IServiceCollection services) => services.AddBillingOptions().AddBillingJobs();

            /// <summary>Billing's handlers, registered by a private helper.</summary>
            public static IServiceCollection AddBillingThroughHelper(this IServiceCollection services)
            {
                Register(services);
                return services;
            }

            private static void Register(IServiceCollection services)
                => (services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()
                    ?? throw new InvalidOperationException("Call AddJobs before AddBillingThroughHelper.")).AddGeneratedJobs();

            /// <summary>The registration of Billing's handlers, as a delegate over the JobsBuilder.</summary>
            public static Action<JobsBuilder> Registration => jobs => jobs.AddGeneratedJobs();

            /// <summary>Runs an installer: which implementation runs is known only at run time.</summary>
            public static IServiceCollection AddBillingInstaller(this IServiceCollection services, IBillingInstaller installer) => installer.Install(services);
        }
        public interface IBillingInstaller
        {
            IServiceCollection Install(IServiceCollection services);
        }
        public class BillingInstaller : IBillingInstaller
        {
            public IServiceCollection Install(IServiceCollection services) => Register(services);
            protected virtual IServiceCollection Register(IServiceCollection services) => services.AddBillingJobs();
        }
        """;

    private static async Task<IReadOnlyList<string>> BuildWorkerAsync(string configure, bool referenceAssembly, string members = "")
    {
        var contracts = await Contracts.Value;
        var (billing, billingDiagnostics) = await TestProjects.BuildAsync("Billing", BillingSource, [contracts],
            runGenerator: true, externalJobs: null, referenceAssembly: referenceAssembly);
        Assert.Empty(billingDiagnostics);

        var (_, diagnostics) = await TestProjects.BuildAsync("Worker", Usings + $$"""
            namespace Worker;
            using Billing;
            public static class Program
            {
                public static void Configure(IServiceCollection services) { {{configure}}; }
                {{members}}
            }
            """, contracts, billing);
        return diagnostics;
    }

    [Theory]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingJobs()", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingJobs()", true)]
    [InlineData("services.AddJobs(jobs => { _ = new BillingModule(jobs); jobs.UseInMemory().AddWorkers(); })", false)]
    [InlineData("services.AddJobs(jobs => { _ = new BillingModule(jobs); jobs.UseInMemory().AddWorkers(); })", true)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()); _ = new BillingModule(services)", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()); _ = new BillingModule(services)", true)]
    public async Task No_JOBS025_when_the_worker_calls_a_library_member_whose_body_calls_its_AddGeneratedJobs(string configure, bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync(configure, referenceAssembly);

        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBilling()", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBilling()", true)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingThroughHelper()", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingThroughHelper()", true)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()); _ = new BillingModule(services, 25)", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()); _ = new BillingModule(services, 25)", true)]
    [InlineData("services.AddJobs(jobs => { BillingSetup.Registration(jobs); jobs.UseInMemory().AddWorkers(); })", false)]
    [InlineData("services.AddJobs(jobs => { BillingSetup.Registration(jobs); jobs.UseInMemory().AddWorkers(); })", true)]
    public async Task No_JOBS025_when_the_worker_calls_a_library_member_that_reaches_its_AddGeneratedJobs_through_other_members(string configure, bool referenceAssembly)
    {
        // A wrapper of a wrapper, a private helper, a constructor chained with this(...), a static property whose getter
        // returns a delegate calling it: the generator lists every member from which the library's registration is reached.
        var diagnostics = await BuildWorkerAsync(configure, referenceAssembly);

        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()); new BillingInstaller().Install(services)", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()); new BillingInstaller().Install(services)", true)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingInstaller(new BillingInstaller())", true)]
    public async Task JOBS025_when_the_library_reaches_its_registration_only_through_a_virtual_or_interface_call(string configure, bool referenceAssembly)
    {
        // Passes as written, and is kept so: Install calls a virtual method (an override, here or in the Worker, may not
        // register) and AddBillingInstaller an interface method (any implementation may run): neither is resolved statically.
        var diagnostics = await BuildWorkerAsync(configure, referenceAssembly);

        Assert.StartsWith("JOBS025@", Assert.Single(diagnostics), StringComparison.Ordinal);
        Assert.Contains("Library 'Billing' handles job 'charge-card', but", diagnostics[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingOptions()", false)]
    [InlineData("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingOptions()", true)]
    [InlineData("services.AddJobs(jobs => { _ = new BillingModule(); jobs.UseInMemory().AddWorkers(); })", true)]
    public async Task JOBS025_when_the_worker_calls_only_library_members_that_register_no_job(string configure, bool referenceAssembly)
    {
        // Passes as written: a library member that does not take the JobsBuilder and whose body does not call the
        // library's AddGeneratedJobs() (its options, a plain constructor) registers none of its handlers.
        var diagnostics = await BuildWorkerAsync(configure, referenceAssembly);

        Assert.StartsWith("JOBS025@", Assert.Single(diagnostics), StringComparison.Ordinal);
        Assert.Contains("Library 'Billing' handles job 'charge-card', but", diagnostics[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_JOBS001_for_a_pushed_job_whose_library_handlers_a_wrapper_registers(bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBillingJobs()", referenceAssembly,
            "public static async Task PushAsync(JobQueue queue) => await queue.PushAsync(new Contracts.ChargeCard(100));");

        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_JOBS001_for_a_pushed_job_whose_library_handlers_a_wrapper_of_a_wrapper_registers(bool referenceAssembly)
    {
        var diagnostics = await BuildWorkerAsync("services.AddJobs(jobs => jobs.UseInMemory().AddWorkers()).AddBilling()", referenceAssembly,
            "public static async Task PushAsync(JobQueue queue) => await queue.PushAsync(new Contracts.ChargeCard(100));");

        Assert.Empty(diagnostics);
    }
}
