using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;

// src/Jobs.Sdk.Postgres/README.md's code (the package's readme), compiled with exactly the usings it shows
// (ReadmeCodeBlockTests checks the readme shows the region verbatim).
namespace ReadmeSnippets.PostgresPackage;

internal static class PostgresPackage
{
    // Compiled, never called.
    internal static void Configure(IServiceCollection services, string connectionString)
    {
        #region readme-postgres-package
        services.AddJobs(jobs => jobs
            .UsePostgres(connectionString, o => { o.QueueName = "emails"; o.Schema = "jobs"; })   // PostgresJobDriverOptions
            .AddGeneratedJobs()
            .AddWorkers(o => o.Concurrency = 16));                                                // JobWorkerOptions
        #endregion
    }
}
