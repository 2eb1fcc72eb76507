using Jobs.Sdk;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Observability", Metrics'
// cardinality. OpenTelemetrySdkTests runs it beside README's OpenTelemetry setup with 300 queues.
namespace ReadmeSnippets.Observability;

internal static class OpenTelemetryLimit
{
    internal static void Configure(Microsoft.Extensions.Hosting.HostApplicationBuilder builder)
    {
        #region readme-opentelemetry-limit
        builder.Services.AddOpenTelemetry()
            .WithMetrics(m => m.AddView(JobsDiagnostics.StateCountInstrument,
                new MetricStreamConfiguration { CardinalityLimit = 10_000 })); // 1,428 queues
        #endregion
    }
}
