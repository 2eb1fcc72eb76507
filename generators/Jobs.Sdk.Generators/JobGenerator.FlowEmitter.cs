using System.Globalization;
using System.Linq;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Emitter
    {
        /// <summary>The queue and flow-control members of <c>IJob</c> (only those a job type sets; the rest keep their defaults).</summary>
        private static void EmitFlow(JobModel job, SourceWriter w, string iface)
        {
            var flow = job.Flow;
            if (flow.Queue is not null)
            {
                w.Line($"static string? {iface}.Queue => {SymbolDisplay.FormatLiteral(flow.Queue, quote: true)};");
            }

            if (flow.Unique)
            {
                w.Line($"static bool {iface}.Unique => true;");
            }

            if (flow.UniqueFor > 0)
            {
                w.Line($"static int {iface}.UniqueForSeconds => {flow.UniqueFor.ToString(CultureInfo.InvariantCulture)};");
            }

            if (flow.UniqueKeys.Count > 0)
            {
                w.Line($"{(flow.UniqueKeysNameObsoleteError ? ObsoleteContext + " " : "")}static string? {iface}.GetUniqueKey({job.TypeOfName} job) => global::Jobs.Sdk.Infrastructure.JobKeyText.Join({string.Join(", ", flow.UniqueKeys)});");
            }

            if (flow.ConcurrencyLimit > 0)
            {
                w.Line($"static int? {iface}.ConcurrencyLimit => {flow.ConcurrencyLimit.ToString(CultureInfo.InvariantCulture)};");
                if (flow.ConcurrencyKeys.Count > 0)
                {
                    // Scoped by the job name, so the same member values of two job types are two keys.
                    var prefix = SymbolDisplay.FormatLiteral(job.JobName + ":", quote: true);
                    w.Line($"{(flow.ConcurrencyKeysNameObsoleteError ? ObsoleteContext + " " : "")}static string {iface}.GetConcurrencyKey({job.TypeOfName} job) => {prefix} + global::Jobs.Sdk.Infrastructure.JobKeyText.Join({string.Join(", ", flow.ConcurrencyKeys)});");
                }
            }
        }
    }
}
