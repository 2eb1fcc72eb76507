using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// The members of referenced Jobs.Sdk libraries from which a generated registration is reached, read from their
        /// metadata (no syntax is bound): each library's <c>AddGeneratedJobs()</c> this assembly can call (as its friend), the
        /// members its <c>[JobRegistrationCallers]</c> lists, and the members its <c>[assembly: JobRegistrationReach]</c>
        /// lists for the libraries it reaches in turn. Ordered; empty without Jobs.Sdk or such libraries.
        /// </summary>
        public static EquatableArray<ExternalRegistrationCaller> ParseExternalRegistrationCallers(Compilation compilation, CancellationToken cancellationToken)
        {
            if (compilation.GetTypeByMetadataName(KnownNames.JobsBuilder) is not { } builder)
            {
                return EquatableArray<ExternalRegistrationCaller>.Empty;
            }

            var sdk = builder.ContainingAssembly;
            var callersAttribute = compilation.GetTypeByMetadataName(KnownNames.JobRegistrationCallersAttribute);
            var reachAttribute = compilation.GetTypeByMetadataName(KnownNames.JobRegistrationReachAttribute);
            var found = new HashSet<ExternalRegistrationCaller>();
            foreach (var library in compilation.SourceModule.ReferencedAssemblySymbols)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (SymbolEqualityComparer.Default.Equals(library, sdk)
                    || !library.Modules.Any(m => m.ReferencedAssemblySymbols.Contains(sdk, SymbolEqualityComparer.Default)))
                {
                    continue;
                }

                foreach (var registration in GeneratedRegistrationMethods.Of(library, builder))
                {
                    if (compilation.IsSymbolAccessibleWithin(registration, compilation.Assembly) && RegistrationCallerIds.Of(registration) is { } id)
                    {
                        found.Add(new ExternalRegistrationCaller(library.Name, library.Name, id));
                    }

                    foreach (var attribute in registration.GetAttributes())
                    {
                        if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, callersAttribute)
                            && attribute.ConstructorArguments is [{ Kind: TypedConstantKind.Array } members])
                        {
                            found.UnionWith(members.Values.Select(v => v.Value).OfType<string>().Select(m => new ExternalRegistrationCaller(library.Name, library.Name, m)));
                        }
                    }
                }

                if (reachAttribute is null)
                {
                    continue;
                }

                foreach (var attribute in library.GetAttributes())
                {
                    if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, reachAttribute)
                        && attribute.ConstructorArguments is [{ Value: string target }, { Kind: TypedConstantKind.Array } members])
                    {
                        found.UnionWith(members.Values.Select(v => v.Value).OfType<string>().Select(m => new ExternalRegistrationCaller(library.Name, target, m)));
                    }
                }
            }

            return found
                .OrderBy(c => c.Target, StringComparer.Ordinal)
                .ThenBy(c => c.Library, StringComparer.Ordinal)
                .ThenBy(c => c.Member, StringComparer.Ordinal)
                .ToEquatableArray();
        }

        /// <summary>
        /// Per referenced assembly whose registration is reached (ordered by name), this assembly's members, callable outside
        /// it, from which it is reached: those calling a member of <paramref name="external"/> and, transitively, their callers
        /// here (see <see cref="CloseRegistrationCallers"/>). Written as <c>[assembly: JobRegistrationReach]</c> for JOBS025.
        /// </summary>
        /// <remarks>
        /// Bounded like the closure of this assembly's own callers: only the files naming a member reached are bound, and an
        /// assembly referencing no library with such members binds nothing.
        /// </remarks>
        public static EquatableArray<RegistrationReachModel> CloseRegistrationReach(EquatableArray<ExternalRegistrationCaller> external,
            bool ownRegistration, ImmutableArray<TreeCallNames> files, Compilation compilation, CancellationToken cancellationToken)
        {
            if (external.Count == 0)
            {
                return EquatableArray<RegistrationReachModel>.Empty;
            }

            var reach = new List<RegistrationReachModel>();
            foreach (var target in external.GroupBy(c => c.Target, StringComparer.Ordinal))
            {
                if (target.Key == compilation.AssemblyName)
                {
                    continue;
                }

                var frontier = new List<IMethodSymbol>();
                foreach (var caller in target)
                {
                    foreach (var symbol in DocumentationCommentId.GetSymbolsForDeclarationId(caller.Member, compilation))
                    {
                        if (symbol is IMethodSymbol method && method.ContainingAssembly?.Name == caller.Library
                            && compilation.IsSymbolAccessibleWithin(method, compilation.Assembly))
                        {
                            frontier.Add(method);
                        }
                    }
                }

                var reached = new Dictionary<string, IMethodSymbol>(StringComparer.Ordinal);
                CloseCallers(reached, frontier, files, compilation, ownRegistration, cancellationToken);
                if (Callable(reached, compilation) is { Count: > 0 } members)
                {
                    reach.Add(new RegistrationReachModel(target.Key, members));
                }
            }

            return reach.ToEquatableArray();
        }
    }
}
