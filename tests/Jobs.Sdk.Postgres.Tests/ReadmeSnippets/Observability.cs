using Microsoft.Extensions.DependencyInjection;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Observability".
namespace ReadmeSnippets.Observability;

internal static class HealthChecks
{
    // Compiled, never called.
    internal static void Configure(Microsoft.Extensions.Hosting.HostApplicationBuilder builder)
    {
        #region readme-health-check
        builder.Services.AddHealthChecks().AddJobsHealthCheck(tags: ["ready"]);
        #endregion
    }
}
