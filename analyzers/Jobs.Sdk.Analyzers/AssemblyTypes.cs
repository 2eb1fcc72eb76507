using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers;

/// <summary>Every named type an assembly declares, nested types included (for the analyzers that read referenced assemblies).</summary>
internal static class AssemblyTypes
{
    public static IEnumerable<INamedTypeSymbol> Of(IAssemblySymbol assembly, CancellationToken cancellationToken)
    {
        var pending = new Stack<INamespaceOrTypeSymbol>();
        pending.Push(assembly.GlobalNamespace);
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var member in pending.Pop().GetMembers())
            {
                if (member is INamespaceSymbol ns)
                {
                    pending.Push(ns);
                }
                else if (member is INamedTypeSymbol type)
                {
                    yield return type;
                    pending.Push(type);
                }
            }
        }
    }
}
