using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers;

/// <summary>
/// The jobs handled in referenced libraries whose <c>JobsBuilder</c> extension methods a project calls (a Handlers
/// library's <c>jobs.AddHandlers()</c> wrapping its generated <c>AddGeneratedJobs()</c>), or a member its generated
/// registration lists as calling it (<c>services.AddBillingJobs()</c>): the jobs for which such a library
/// declares a non-abstract <c>IJobHandler&lt;T&gt;</c>, internal ones included (the library registers those itself).
/// Read only when a pushed job is otherwise unregistered.
/// </summary>
internal static class LibraryHandlers
{
    public static HashSet<ITypeSymbol> JobsHandledIn(IEnumerable<IAssemblySymbol> libraries, KnownSymbols known, CancellationToken cancellationToken)
    {
        var jobs = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        if (known.JobHandlerInterface is not { } handlerInterface)
        {
            return jobs;
        }

        foreach (var library in libraries)
        {
            foreach (var type in AssemblyTypes.Of(library, cancellationToken))
            {
                if (type is not { TypeKind: TypeKind.Class, IsAbstract: false, IsStatic: false })
                {
                    continue;
                }

                foreach (var @interface in type.AllInterfaces)
                {
                    if (SymbolEqualityComparer.Default.Equals(@interface.OriginalDefinition, handlerInterface))
                    {
                        jobs.Add(@interface.TypeArguments[0]);
                    }
                }
            }
        }

        return jobs;
    }
}
