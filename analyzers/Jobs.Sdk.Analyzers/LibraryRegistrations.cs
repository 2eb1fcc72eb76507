using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers;

/// <summary>
/// JOBS025's view of the referenced libraries, read once at the end of a compilation that runs workers: the jobs a
/// library's generated registration registers (its internal <c>AddGeneratedJobs()</c>, public in an internal class, whose
/// <c>[JobRegistrationMethod]</c> lists them; reference assemblies keep both), the libraries a call into some library may
/// register (that library and what it references), and the <c>JobsBuilder</c> extensions a library offers.
/// </summary>
internal static class LibraryRegistrations
{
    /// <summary>The referenced assemblies, Jobs.Sdk excepted, that reference Jobs.Sdk (the only ones that can hold handlers).</summary>
    public static IEnumerable<IAssemblySymbol> Candidates(Compilation compilation, IAssemblySymbol sdk)
        => compilation.SourceModule.ReferencedAssemblySymbols
            .Where(a => !SymbolEqualityComparer.Default.Equals(a, sdk) && References(a, sdk));

    /// <summary>
    /// The job types the library's generated <c>AddGeneratedJobs()</c> registers (one per job with exactly one handler in
    /// it); empty for a library without handlers, or built without a generated registration that lists them.
    /// </summary>
    public static ImmutableArray<ITypeSymbol> GeneratedJobs(IAssemblySymbol library, KnownSymbols known)
    {
        if (known.JobRegistrationMethodAttribute is not { } marker || known.JobsBuilder is not { } builder)
        {
            return [];
        }

        var jobs = ImmutableArray.CreateBuilder<ITypeSymbol>();
        foreach (var method in GeneratedRegistrationMethods.Of(library, builder))
        {
            jobs.AddRange(MarkedTypes.Of(method, marker));
        }

        return jobs.ToImmutable();
    }

    /// <summary>
    /// The documentation comment ids of the library's members from which its generated <c>AddGeneratedJobs()</c> is reached
    /// (its <c>[JobRegistrationCallers]</c>, written by the generator); empty for a library built by an older generator.
    /// </summary>
    public static HashSet<string> RegistrationCallers(IAssemblySymbol library, KnownSymbols known)
    {
        var callers = new HashSet<string>(System.StringComparer.Ordinal);
        if (known.JobRegistrationCallersAttribute is not { } marker || known.JobsBuilder is not { } builder)
        {
            return callers;
        }

        foreach (var method in GeneratedRegistrationMethods.Of(library, builder))
        {
            foreach (var attribute in method.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, marker)
                    && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0] is { Kind: TypedConstantKind.Array } members)
                {
                    callers.UnionWith(members.Values.Select(v => v.Value).OfType<string>());
                }
            }
        }

        return callers;
    }

    /// <summary>
    /// The assemblies (by simple name) whose generated registration the library's members reach, each with the
    /// documentation comment ids of those members (its <c>[assembly: JobRegistrationReach]</c>, written by the generator: a
    /// Platform library's <c>AddPlatform()</c> calling Billing's wrapper); empty for a library built by an older generator.
    /// </summary>
    public static Dictionary<string, HashSet<string>> RegistrationReach(IAssemblySymbol library, KnownSymbols known)
    {
        var reach = new Dictionary<string, HashSet<string>>(System.StringComparer.Ordinal);
        if (known.JobRegistrationReachAttribute is not { } marker)
        {
            return reach;
        }

        foreach (var attribute in library.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, marker)
                && attribute.ConstructorArguments.Length == 2 && attribute.ConstructorArguments[0].Value is string target
                && attribute.ConstructorArguments[1] is { Kind: TypedConstantKind.Array } members)
            {
                if (!reach.TryGetValue(target, out var ids))
                {
                    reach.Add(target, ids = new HashSet<string>(System.StringComparer.Ordinal));
                }

                ids.UnionWith(members.Values.Select(v => v.Value).OfType<string>());
            }
        }

        return reach;
    }

    /// <summary>
    /// The assemblies whose registrations a call into <paramref name="called"/> may run: those assemblies and, transitively,
    /// the Jobs.Sdk libraries they reference (a library's setup method calling another library's).
    /// </summary>
    public static HashSet<IAssemblySymbol> Reached(IEnumerable<IAssemblySymbol> called, IAssemblySymbol sdk)
    {
        var reached = new HashSet<IAssemblySymbol>(SymbolEqualityComparer.Default);
        var pending = new Stack<IAssemblySymbol>(called);
        while (pending.Count > 0)
        {
            var assembly = pending.Pop();
            if (!reached.Add(assembly))
            {
                continue;
            }

            foreach (var module in assembly.Modules)
            {
                foreach (var referenced in module.ReferencedAssemblySymbols)
                {
                    if (!reached.Contains(referenced) && References(referenced, sdk))
                    {
                        pending.Push(referenced);
                    }
                }
            }
        }

        return reached;
    }

    /// <summary>
    /// The library's <c>JobsBuilder</c> extension methods this compilation can call, other than generated ones
    /// (<c>Add{Job}</c>, <c>AddGeneratedJobs</c>), ordered by name.
    /// </summary>
    public static List<IMethodSymbol> Extensions(IAssemblySymbol library, Compilation compilation, KnownSymbols known, CancellationToken cancellationToken)
    {
        var found = new List<IMethodSymbol>();
        foreach (var type in AssemblyTypes.Of(library, cancellationToken))
        {
            if (type is not { IsStatic: true, ContainingType: null, MightContainExtensionMethods: true })
            {
                continue;
            }

            foreach (var member in type.GetMembers())
            {
                if (member is IMethodSymbol { IsExtensionMethod: true } method
                    && SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, known.JobsBuilder)
                    && compilation.IsSymbolAccessibleWithin(method, compilation.Assembly)
                    && (known.JobRegistrationMethodAttribute is null || MarkedTypes.Of(method, known.JobRegistrationMethodAttribute).IsEmpty))
                {
                    found.Add(method);
                }
            }
        }

        return [.. found.OrderBy(m => m.Name, System.StringComparer.Ordinal)];
    }

    /// <summary>Whether a call passes the JobsBuilder to <paramref name="method"/>: as its receiver or a parameter, or a delegate taking it.</summary>
    public static bool TakesJobsBuilder(IMethodSymbol method, INamedTypeSymbol jobsBuilder)
    {
        foreach (var parameter in method.OriginalDefinition.Parameters)
        {
            if (SymbolEqualityComparer.Default.Equals(parameter.Type, jobsBuilder)
                || parameter.Type is INamedTypeSymbol { TypeKind: TypeKind.Delegate, IsGenericType: true } callback
                    && callback.TypeArguments.Contains(jobsBuilder, SymbolEqualityComparer.Default))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the assembly references Jobs.Sdk (only such a library can hold handlers or call their registration).</summary>
    public static bool ReferencesSdk(IAssemblySymbol assembly, IAssemblySymbol sdk) => References(assembly, sdk);

    private static bool References(IAssemblySymbol assembly, IAssemblySymbol sdk)
        => assembly.Modules.Any(m => m.ReferencedAssemblySymbols.Contains(sdk, SymbolEqualityComparer.Default));
}
