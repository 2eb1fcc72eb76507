using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    /// <summary>Turns symbols into equatable models. The only part of the generator that touches symbols and syntax.</summary>
    internal static partial class Parser
    {
        private static readonly SymbolDisplayFormat AnnotatedFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        private static readonly SymbolDisplayFormat PlainFormat = SymbolDisplayFormat.FullyQualifiedFormat;

        private static readonly SymbolDisplayFormat NamespaceFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

        public static bool IsCandidateHandler(SyntaxNode node, CancellationToken cancellationToken)
            => node is ClassDeclarationSyntax { BaseList.Types.Count: > 0 } or RecordDeclarationSyntax { BaseList.Types.Count: > 0, ClassOrStructKeyword.RawKind: not (int)SyntaxKind.StructKeyword };

        /// <summary>Finds the <c>IJobHandler&lt;T&gt;</c> implementations of a class declaration.</summary>
        public static EquatableArray<HandlerModel> ParseHandler(GeneratorSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.SemanticModel.GetDeclaredSymbol(context.Node, cancellationToken) is not INamedTypeSymbol type
                || type.IsAbstract || type.IsStatic || type.IsGenericType || type.TypeKind != TypeKind.Class
                || EffectiveAccessibility(type) is null)
            {
                return EquatableArray<HandlerModel>.Empty;
            }

            List<HandlerModel>? handlers = null;
            foreach (var iface in type.AllInterfaces)
            {
                if (iface is not { Arity: 1, Name: "IJobHandler" } || iface.ContainingNamespace?.ToDisplayString() != "Jobs.Sdk"
                    || iface.TypeArguments[0] is not INamedTypeSymbol job || job.TypeKind == TypeKind.Error)
                {
                    continue;
                }

                var isLocal = SymbolEqualityComparer.Default.Equals(job.ContainingAssembly, context.SemanticModel.Compilation.Assembly);
                var hasAttribute = JobTypeSupport.HasAttribute(job, KnownNames.JobAttribute);
                var implementsJob = job.AllInterfaces.Any(i => i.OriginalDefinition.MetadataName == "IJob`1"
                    && i.OriginalDefinition.ContainingNamespace.ToDisplayString() == "Jobs.Sdk"
                    && SymbolEqualityComparer.Default.Equals(i.TypeArguments[0], job));
                if (!(isLocal && hasAttribute) && !implementsJob)
                {
                    continue;
                }

                handlers ??= [];
                var ids = new SortedSet<string>(StringComparer.Ordinal);
                JobTypeSupport.AddDiagnosticIds(type, ids);
                JobTypeSupport.AddDiagnosticIds(job, ids);
                handlers.Add(new HandlerModel(type.ToDisplayString(PlainFormat), job.ToDisplayString(PlainFormat), isLocal && hasAttribute,
                    ids.ToEquatableArray()));
            }

            return handlers is null ? EquatableArray<HandlerModel>.Empty : handlers.ToEquatableArray();
        }

        /// <summary>Combines the generated jobs, the handlers found in the assembly and the members calling its registration into the registration model.</summary>
        public static RegistrationModel CreateRegistration(ImmutableArray<string> localJobs, ImmutableArray<HandlerModel> handlers, AssemblyModel assembly,
            EquatableArray<string> callers)
        {
            var name = new StringBuilder();
            foreach (var c in assembly.Name ?? "")
            {
                name.Append(char.IsLetterOrDigit(c) ? c : '_');
            }

            if (name.Length == 0 || char.IsDigit(name[0]))
            {
                name.Insert(0, '_');
            }

            name.Append("GeneratedJobsExtensions");
            while (assembly.TypeNamesInRegistrationNamespace.Contains(name.ToString()))
            {
                name.Append('_');
            }

            return new RegistrationModel(
                name.ToString(),
                localJobs.Distinct(StringComparer.Ordinal).OrderBy(j => j, StringComparer.Ordinal).ToEquatableArray(),
                handlers.Distinct().OrderBy(h => h.JobTypeOfName, StringComparer.Ordinal).ThenBy(h => h.HandlerTypeOfName, StringComparer.Ordinal).ToEquatableArray(),
                assembly.GrantsInternalsVisibleTo,
                callers);
        }

        /// <summary>Whether a type is (only) a partial class the generator itself completes: declared nowhere in source.</summary>
        private static bool IsGeneratedExtensionClass(INamedTypeSymbol type) => type.DeclaringSyntaxReferences.Length == 0 && type.Locations.All(l => !l.IsInSource);

        /// <summary>The assembly facts the registration class depends on.</summary>
        public static AssemblyModel ParseAssembly(Compilation compilation, CancellationToken cancellationToken)
        {
            var grants = false;
            foreach (var attribute in compilation.Assembly.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                grants |= attribute.AttributeClass?.ToDisplayString() == "System.Runtime.CompilerServices.InternalsVisibleToAttribute";
            }

            var names = new List<string>();
            var ns = compilation.Assembly.GlobalNamespace.GetNamespaceMembers().FirstOrDefault(n => n.Name == "Microsoft")
                ?.GetNamespaceMembers().FirstOrDefault(n => n.Name == "Extensions")
                ?.GetNamespaceMembers().FirstOrDefault(n => n.Name == "DependencyInjection");
            if (ns is not null)
            {
                names.AddRange(ns.GetTypeMembers().Select(t => t.Name).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal));
            }

            return new AssemblyModel(compilation.AssemblyName, grants, names.ToEquatableArray());
        }

        /// <summary>
        /// Gives every job a hint name that is unique ignoring case (Roslyn compares hint names case-insensitively, CS8785):
        /// jobs whose natural names collide get a suffix that encodes the letter case of their full name.
        /// </summary>
        public static EquatableArray<string> FindCaseCollisions(ImmutableArray<string> hintNames)
            => hintNames.GroupBy(h => h, StringComparer.OrdinalIgnoreCase)
                .Where(g => g.Distinct(StringComparer.Ordinal).Count() > 1)
                .SelectMany(g => g.Distinct(StringComparer.Ordinal))
                .OrderBy(h => h, StringComparer.Ordinal)
                .ToEquatableArray();

        /// <summary>The hint name of a job whose natural hint name collides with another's ignoring case.</summary>
        public static string DisambiguateHintName(string hintName)
        {
            var stem = hintName.Substring(0, hintName.Length - ".g.cs".Length);
            var pattern = new StringBuilder(stem.Length);
            foreach (var c in stem)
            {
                pattern.Append(char.IsUpper(c) ? 'U' : char.IsLower(c) ? 'l' : '_');
            }

            // FNV-1a over the case pattern: stable across runs and platforms.
            var hash = 2166136261u;
            foreach (var c in pattern.ToString())
            {
                hash = unchecked((hash ^ c) * 16777619u);
            }

            return stem + "." + hash.ToString("x8", CultureInfo.InvariantCulture) + ".g.cs";
        }
    }
}
