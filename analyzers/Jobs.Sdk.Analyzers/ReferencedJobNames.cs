using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers;

/// <summary>
/// The <c>[Job]</c> names declared in referenced assemblies (a Contracts library) that are also declared in this
/// compilation: a worker handling its own type under a Contracts job's name would run it on that job's payloads.
/// Only assemblies that reference Jobs.Sdk are read, and only when this compilation declares jobs.
/// </summary>
internal static class ReferencedJobNames
{
    public static Dictionary<string, List<string>> Find(Compilation compilation, KnownSymbols known, ISet<string> localNames, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, List<string>>(System.StringComparer.Ordinal);
        var sdk = known.JobAttribute.ContainingAssembly;
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            if (SymbolEqualityComparer.Default.Equals(assembly, sdk)
                || !assembly.Modules.Any(m => m.ReferencedAssemblySymbols.Contains(sdk, SymbolEqualityComparer.Default)))
            {
                continue;
            }

            foreach (var type in AssemblyTypes.Of(assembly, cancellationToken))
            {
                if (known.GetJobName(type) is { } name && localNames.Contains(name))
                {
                    if (!found.TryGetValue(name, out var types))
                    {
                        found.Add(name, types = []);
                    }

                    types.Add($"{type.ToDisplayString()} (in {assembly.Name})");
                }
            }
        }

        return found;
    }
}
