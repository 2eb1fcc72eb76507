using System.Globalization;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Solution layouts with jobs in several assemblies: each library is compiled with the real generator, loaded, and its
/// generated <c>AddGeneratedJobs()</c> called through a public setup method (as a worker project calls it).
/// </summary>
public class MultiAssemblyRegistrationTests
{
    private static int s_libraries;

    /// <summary>A library that defines a job named <c>cleanup</c> and its handler, and exposes its generated registration.</summary>
    private static Func<JobsBuilder, JobsBuilder> CompileLibrary(string ns, string setupMethod = "Register")
    {
        var compilation = GeneratorHarness.CreateCompilation($$"""
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;
            using Microsoft.Extensions.DependencyInjection;
            namespace {{ns}};
            [Job("cleanup")] public partial record Cleanup(int Days);
            public sealed class CleanupHandler : IJobHandler<Cleanup>
            {
                public Task HandleAsync(Cleanup job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            public static class Setup
            {
                public static JobsBuilder Register(JobsBuilder jobs) => jobs.AddGeneratedJobs();
                public static JobsBuilder RegisterExplicitly(JobsBuilder jobs) => jobs.AddCleanup<CleanupHandler>();
            }
            """).WithAssemblyName(ns + Interlocked.Increment(ref s_libraries).ToString(CultureInfo.InvariantCulture));
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        var setup = Assembly.Load(stream.ToArray()).GetType(ns + ".Setup")!.GetMethod(setupMethod)!;
        return jobs => (JobsBuilder)setup.Invoke(null, [jobs])!;
    }

    private static Exception? Configure(params Func<JobsBuilder, JobsBuilder>[] registrations)
    {
        try
        {
            new ServiceCollection().AddJobs(jobs =>
            {
                jobs.UseInMemory();
                foreach (var register in registrations)
                {
                    register(jobs);
                }
            });
            return null;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            return e.InnerException;
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }

    [Fact]
    public void Two_libraries_whose_generated_registrations_claim_one_job_name_fail_at_start_naming_both_types()
    {
        var billing = CompileLibrary("Billing");
        var reports = CompileLibrary("Reports");

        var error = Configure(billing, reports);

        var exception = Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("'cleanup'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Billing.Cleanup", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Reports.Cleanup", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_libraries_registered_explicitly_under_one_job_name_fail_naming_both_types()
    {
        var error = Configure(CompileLibrary("Billing", "RegisterExplicitly"), CompileLibrary("Reports", "RegisterExplicitly"));

        var exception = Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("Billing.Cleanup", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Reports.Cleanup", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_library_registered_twice_registers_its_jobs_once()
    {
        var billing = CompileLibrary("Billing");

        Assert.Null(Configure(billing, billing));
    }
}
