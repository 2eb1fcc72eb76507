using System.Collections.Generic;
using System.Linq;
using System.Text;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Jobs.Sdk.Analyzers;

// JOBS025: a project that runs workers references a library that handles jobs (its generated AddGeneratedJobs() lists
// them) but calls nothing of that library's that takes the JobsBuilder, nor of a library referencing it, and registers
// none of those jobs itself.
public sealed partial class JobRegistrationAnalyzer
{
    private sealed partial class State
    {
        /// <summary>
        /// Records a call (method group, constructor call) that hands the JobsBuilder to a referenced library: its
        /// extension, a method or constructor taking the builder or a delegate over it. Generated single-job methods
        /// (<c>Add{Job}</c>) register only their job. Other calls into a library that references Jobs.Sdk are kept for the
        /// end, where those its generated registration lists as its callers count too (see <see cref="WrapperCalls"/>).
        /// </summary>
        public void NoteLibraryCall(IMethodSymbol method)
        {
            method = method.ReducedFrom ?? method;
            if (method.ContainingAssembly is not { } library
                || SymbolEqualityComparer.Default.Equals(library, compilationAssembly)
                || SymbolEqualityComparer.Default.Equals(library, known.JobsBuilder!.ContainingAssembly)
                || _libraryCalls.ContainsKey(library))
            {
                return;
            }

            if (!LibraryRegistrations.TakesJobsBuilder(method, known.JobsBuilder))
            {
                if (known.JobRegistrationCallersAttribute is not null
                    && _referencesSdk.GetOrAdd(library, a => LibraryRegistrations.ReferencesSdk(a, known.JobsBuilder.ContainingAssembly)))
                {
                    _libraryMemberCalls.TryAdd(method.OriginalDefinition, 0);
                }

                return;
            }

            if (method.Name != KnownNames.AddGeneratedJobsMethodName && known.JobRegistrationMethodAttribute is { } marker
                && !MarkedTypes.Of(method, marker).IsEmpty)
            {
                return;
            }

            _libraryCalls.TryAdd(library, 0);
        }

        private void ReportUncalledLibraries(CompilationAnalysisContext context)
        {
            var sdk = known.JobsBuilder!.ContainingAssembly;
            var location = _workerCalls
                .OrderBy(l => l.SourceTree?.FilePath, System.StringComparer.Ordinal)
                .ThenBy(l => l.SourceSpan.Start)
                .FirstOrDefault();
            if (location is null)
            {
                return;
            }

            HashSet<IAssemblySymbol>? reached = null;
            foreach (var library in LibraryRegistrations.Candidates(context.Compilation, sdk).OrderBy(a => a.Name, System.StringComparer.Ordinal))
            {
                var jobs = LibraryRegistrations.GeneratedJobs(library, known);
                if (jobs.IsEmpty || jobs.Any(_registered.ContainsKey))
                {
                    continue; // no handlers, or this project registers the library's jobs its own way.
                }

                reached ??= LibraryRegistrations.Reached(_libraryCalls.Keys.Concat(WrapperCalls()), sdk);
                if (reached.Contains(library))
                {
                    continue;
                }

                var names = jobs
                    .Select(job => (Job: job, Name: known.GetJobName(job)))
                    .Where(j => !IsExternal(context, location, j.Job, j.Name))
                    .Select(j => "'" + (j.Name ?? j.Job.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)) + "'")
                    .Distinct(System.StringComparer.Ordinal)
                    .OrderBy(n => n, System.StringComparer.Ordinal)
                    .ToList();
                if (names.Count == 0)
                {
                    continue; // all handled by another service.
                }

                var extensions = LibraryRegistrations.Extensions(library, context.Compilation, known, context.CancellationToken);
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.UncalledLibraryRegistration, location,
                    library.Name, (names.Count == 1 ? "job " : "jobs ") + string.Join(", ", names), HowToCall(library, extensions)));
            }
        }

        /// <summary>
        /// The libraries this project calls a wrapper of: a member (an <c>IServiceCollection</c> extension, a constructor, a
        /// property getter) that does not take the JobsBuilder but from which the library's generated registration is
        /// reached, as the <c>[JobRegistrationCallers]</c> on that registration lists (the bodies of referenced assemblies
        /// cannot be read; the generator followed the library's own calls); and the libraries whose registration is reached
        /// from a member of another library this project calls, as that library's <c>[assembly: JobRegistrationReach]</c>
        /// lists (a Platform library's <c>AddPlatform()</c> calling Billing's wrapper; the generator compiling Platform
        /// followed the calls, through further libraries too, so one level is read here).
        /// </summary>
        /// <remarks>Read at the end only (JOBS025, then JOBS001), once.</remarks>
        private List<IAssemblySymbol> WrapperCalls()
        {
            if (_wrapperCalls is { } found)
            {
                return found;
            }

            found = [];
            Dictionary<string, IAssemblySymbol>? referenced = null;
            foreach (var calls in _libraryMemberCalls.Keys.GroupBy(m => m.ContainingAssembly, SymbolEqualityComparer.Default))
            {
                var library = (IAssemblySymbol)calls.Key!;
                var ids = calls.Select(m => RegistrationCallerIds.Of(m)).OfType<string>().ToList();
                var callers = LibraryRegistrations.RegistrationCallers(library, known);
                if (callers.Count > 0 && ids.Any(callers.Contains))
                {
                    found.Add(library);
                }

                // Another library's registration reached from this one's members (its [assembly: JobRegistrationReach]).
                foreach (var reach in LibraryRegistrations.RegistrationReach(library, known))
                {
                    if (!ids.Any(reach.Value.Contains))
                    {
                        continue;
                    }

                    referenced ??= ReferencedByName();
                    if (referenced.TryGetValue(reach.Key, out var target))
                    {
                        found.Add(target);
                    }
                }
            }

            return _wrapperCalls = found;
        }

        /// <summary>The assemblies this compilation references, by simple name (the first of a name, as the compiler binds).</summary>
        private Dictionary<string, IAssemblySymbol> ReferencedByName()
        {
            var byName = new Dictionary<string, IAssemblySymbol>(System.StringComparer.Ordinal);
            foreach (var assembly in compilationAssembly.Modules.SelectMany(m => m.ReferencedAssemblySymbols))
            {
                if (!byName.ContainsKey(assembly.Name))
                {
                    byName.Add(assembly.Name, assembly);
                }
            }

            return byName;
        }

        /// <summary>The fix: the library's JobsBuilder extensions to call, or, when it has none, the one to add.</summary>
        private static string HowToCall(IAssemblySymbol library, List<IMethodSymbol> extensions)
        {
            static string Call(IMethodSymbol method)
                => "jobs." + method.Name + (method.Parameters.Skip(1).All(p => p.IsOptional || p.IsParams) ? "()" : "(...)");

            if (extensions.Count == 1)
            {
                return "call " + Call(extensions[0]) + " here";
            }

            if (extensions.Count > 1)
            {
                return "call one of " + string.Join(", ", extensions.Select(Call).Distinct(System.StringComparer.Ordinal)) + " here";
            }

            var name = new StringBuilder("Add");
            foreach (var c in library.Name)
            {
                if (char.IsLetterOrDigit(c) || c == '_')
                {
                    name.Append(c);
                }
            }

            if (!library.Name.EndsWith("Handlers", System.StringComparison.Ordinal))
            {
                name.Append("Handlers");
            }

            return $"the library exposes none (its {KnownNames.AddGeneratedJobsMethodName}() is internal): add 'public static JobsBuilder {name}(this JobsBuilder jobs) => jobs.{KnownNames.AddGeneratedJobsMethodName}();' to it and call jobs.{name}() here";
        }
    }
}
