using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

/// <summary>
/// A library's generated <c>AddGeneratedJobs(JobsBuilder)</c> methods, found in its metadata: by the generator of a library
/// that reaches another's registration, and by JOBS025 in the project that references them. Shared by file link with
/// <c>Jobs.Sdk.Analyzers</c>.
/// </summary>
internal static class GeneratedRegistrationMethods
{
    /// <summary>
    /// The static <c>AddGeneratedJobs</c> methods taking <paramref name="builder"/> first, of the types in the registration
    /// namespace of <paramref name="library"/> (public methods of an internal class: kept in reference assemblies).
    /// </summary>
    public static IEnumerable<IMethodSymbol> Of(IAssemblySymbol library, INamedTypeSymbol builder)
    {
        INamespaceSymbol? ns = library.GlobalNamespace;
        foreach (var part in KnownNames.RegistrationNamespace.Split('.'))
        {
            ns = ns?.GetNamespaceMembers().FirstOrDefault(n => n.Name == part);
        }

        foreach (var type in ns?.GetTypeMembers() ?? [])
        {
            foreach (var member in type.GetMembers(KnownNames.AddGeneratedJobsMethodName))
            {
                if (member is IMethodSymbol { IsStatic: true, Parameters.Length: > 0 } method
                    && SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, builder))
                {
                    yield return method;
                }
            }
        }
    }
}
