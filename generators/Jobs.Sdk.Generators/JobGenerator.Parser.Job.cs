using System;
using System.Collections.Generic;
using System.Linq;
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
    // One [Job] type: its settings, push constructor, names and model.
    internal static partial class Parser
    {
        /// <summary>Builds the model of one <c>[Job]</c> type, or <see langword="null"/> when nothing can be generated (the analyzers report why).</summary>
        public static JobModel? ParseJob(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax declaration
                || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword) || context.Attributes.Length != 1
                || type.IsRefLikeType || JobTypeSupport.IsFileLocal(type)) // JOBS006
            {
                return null;
            }

            for (var containing = type.ContainingType; containing is not null; containing = containing.ContainingType)
            {
                if (containing.IsGenericType || !containing.DeclaringSyntaxReferences.All(r =>
                        r.GetSyntax(cancellationToken) is TypeDeclarationSyntax t && t.Modifiers.Any(SyntaxKind.PartialKeyword)))
                {
                    return null;
                }
            }

            var attribute = context.Attributes[0];
            if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not string jobName || string.IsNullOrWhiteSpace(jobName))
            {
                return null;
            }

            int maxAttempts = 0, timeoutSeconds = 0, uniqueFor = 0, concurrencyLimit = 0;
            string? queue = null;
            var unique = false;
            var jsonContext = JobTypeSupport.GetJsonContext(attribute);
            foreach (var named in attribute.NamedArguments)
            {
                switch (named.Key)
                {
                    case KnownNames.JobAttributeMaxAttempts when named.Value.Value is int m:
                        maxAttempts = m;
                        break;
                    case KnownNames.JobAttributeTimeoutSeconds when named.Value.Value is int t:
                        timeoutSeconds = t;
                        break;
                    case KnownNames.JobAttributeQueue when named.Value.Value is string q:
                        queue = q;
                        break;
                    case KnownNames.JobAttributeUnique when named.Value.Value is bool u:
                        unique = u;
                        break;
                    case KnownNames.JobAttributeUniqueFor when named.Value.Value is int f:
                        uniqueFor = f;
                        break;
                    case KnownNames.JobAttributeConcurrencyLimit when named.Value.Value is int c:
                        concurrencyLimit = c;
                        break;
                }
            }

            if (JobTypeSupport.FindProblem(type, jsonContext is not null, jsonContext) is not null)
            {
                return null;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var builder = new GraphBuilder(type, jsonContext is not null);
            var rootId = builder.GetObjectId(type);
            var rootShape = JobTypeSupport.GetObjectShape(type, out _)!;

            var accessibility = EffectiveAccessibility(type);
            var docs = ParseDocumentation(type.GetDocumentationCommentXml(cancellationToken: cancellationToken));
            var pushParameters = new List<PushParameterModel>();
            var constructor = rootShape.Constructor;
            var hasPushConstructor = accessibility is not null && constructor is { Parameters.Length: > 0 }
                && constructor.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal
                && (rootShape.ConstructorSetsRequiredMembers || !rootShape.Members.Any(m => m.IsRequiredProperty));
            if (hasPushConstructor)
            {
                var ctorDocs = constructor!.IsImplicitlyDeclared || type.IsRecord ? docs : ParseDocumentation(constructor.GetDocumentationCommentXml(cancellationToken: cancellationToken));
                JobTypeSupport.AddDiagnosticIds(constructor, builder.DiagnosticIds);
                foreach (var parameter in constructor.Parameters)
                {
                    JobTypeSupport.AddTypeDiagnosticIds(parameter.Type, builder.DiagnosticIds);
                    ctorDocs.Parameters.TryGetValue(parameter.Name, out var doc);
                    if (doc is null)
                    {
                        docs.Parameters.TryGetValue(parameter.Name, out doc);
                    }

                    pushParameters.Add(new PushParameterModel(EscapeIdentifier(parameter.Name), parameter.Type.ToDisplayString(AnnotatedFormat),
                        parameter.HasExplicitDefaultValue ? DefaultLiteral(parameter) : null, doc, CallerInfoOf(parameter)));
                }
            }

            var containingTypes = new List<ContainingTypeModel>();
            for (var containing = type.ContainingType; containing is not null; containing = containing.ContainingType)
            {
                containingTypes.Insert(0, new ContainingTypeModel(DeclarationOf(containing)));
            }

            // The namespace as C# spells it (keyword parts escaped: 'namespace @event;'), and as the hint name spells it
            // (no '@': Roslyn rejects it in hint names, which failed the whole generator run).
            var nsDeclaration = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(NamespaceFormat);
            var ns = nsDeclaration is null ? null : NamespaceName(type.ContainingNamespace);
            var nestedName = string.Concat(containingTypesNames(type)) + type.Name;

            // Generated names must not collide with the user's: a member of the job type named like the helper class,
            // or a type in the namespace named like the extension class, gets a suffix instead of a compiler error.
            var helperClassName = "__JobsJson";
            while (type.GetMembers(helperClassName).Length > 0)
            {
                helperClassName += "_";
            }

            // Nested names are concatenated (Outer.Inner: OuterInnerJobExtensions); when another job of the namespace
            // concatenates to the same name (AB.C, A.BC, a top-level ABC), the nested ones join with '_' instead.
            var extensionClassName = (type.ContainingType is not null && HasOtherJobNamed(type.ContainingNamespace, nestedName, type)
                ? string.Join("_", containingTypesNames(type).Concat([type.Name]))
                : nestedName) + "JobExtensions";
            while (type.ContainingNamespace.GetTypeMembers(extensionClassName).Any(t => !IsGeneratedExtensionClass(t)))
            {
                extensionClassName += "_";
            }
            var typeOfName = type.ToDisplayString(PlainFormat);
            var uniqueKeys = keyTexts(KnownNames.UniqueKeyAttribute, out var uniqueKeysNameObsoleteError);
            var concurrencyKeys = keyTexts(KnownNames.ConcurrencyKeyAttribute, out var concurrencyKeysNameObsoleteError);
            return new JobModel(
                nsDeclaration,
                type.Name,
                type.ToDisplayString(AnnotatedFormat),
                typeOfName,
                (ns is null ? "" : ns + ".") + string.Join(".", containingTypesNames(type).Concat([type.Name])) + ".g.cs",
                DeclarationOf(type),
                containingTypes.ToEquatableArray(),
                accessibility,
                extensionClassName,
                jobName,
                maxAttempts,
                timeoutSeconds,
                jsonContext?.ToDisplayString(PlainFormat),
                builder.ContextTypes.ToEquatableArray(),
                rootId,
                builder.Objects.ToEquatableArray(),
                builder.Enums.ToEquatableArray(),
                hasPushConstructor,
                pushParameters.ToEquatableArray(),
                docs.Summary,
                builder.HasObliviousNullability,
                helperClassName,
                new JobFlowModel(queue, unique, uniqueFor, uniqueKeys, concurrencyLimit, concurrencyKeys,
                    uniqueKeysNameObsoleteError, concurrencyKeysNameObsoleteError),
                builder.DiagnosticIds.ToEquatableArray());

            EquatableArray<string> keyTexts(string attributeName, out bool namesObsoleteError)
            {
                var marked = KeyMemberSupport.FindMarked(type, attributeName);
                namesObsoleteError = false;
                foreach (var m in marked)
                {
                    JobTypeSupport.AddDiagnosticIds(m.Member, builder.DiagnosticIds);
                    namesObsoleteError |= JobTypeSupport.IsObsoleteError(m.Member);
                }

                return marked.Select(m => KeyMemberSupport.Conversion(m.Type, "job." + EscapeIdentifier(m.Member.Name)))
                    .OfType<string>()
                    .ToEquatableArray();
            }

            static IEnumerable<string> containingTypesNames(INamedTypeSymbol t)
            {
                var names = new List<string>();
                for (var c = t.ContainingType; c is not null; c = c.ContainingType)
                {
                    names.Insert(0, c.Name);
                }

                return names;
            }
        }

        /// <summary>
        /// The caller-info attributes of a constructor parameter, copied to the push overload so that pushing with
        /// <c>PushX(...)</c> passes the pusher's member, file, line or argument text, as <c>new X(...)</c> would (not the
        /// parameter's default).
        /// </summary>
        /// <remarks>
        /// A <c>[CallerArgumentExpression]</c> is copied only when it names another parameter of the constructor (all of
        /// which the overload takes under the same names): the constructor ignores one naming anything else (CS8963) or
        /// itself (CS8965), while in the overload such a name could be its receiver or options and capture their text.
        /// </remarks>
        private static string CallerInfoOf(IParameterSymbol parameter)
        {
            var text = "";
            foreach (var attribute in parameter.GetAttributes())
            {
                var name = attribute.AttributeClass?.ToDisplayString();
                if (name is "System.Runtime.CompilerServices.CallerMemberNameAttribute" or "System.Runtime.CompilerServices.CallerFilePathAttribute"
                    or "System.Runtime.CompilerServices.CallerLineNumberAttribute")
                {
                    text += "[global::" + name + "] ";
                }
                else if (name is "System.Runtime.CompilerServices.CallerArgumentExpressionAttribute"
                    && attribute.ConstructorArguments is [{ Value: string target }]
                    && target != parameter.Name
                    && parameter.ContainingSymbol is IMethodSymbol method && method.Parameters.Any(p => p.Name == target))
                {
                    text += "[global::" + name + "(" + SymbolDisplay.FormatLiteral(target, quote: true) + ")] ";
                }
            }

            return text;
        }

        /// <summary>
        /// Whether a job type other than <paramref name="self"/> in <paramref name="container"/> (directly or nested) has the
        /// concatenated name <paramref name="remaining"/>. Only types whose names prefix it are visited.
        /// </summary>
        private static bool HasOtherJobNamed(INamespaceOrTypeSymbol container, string remaining, INamedTypeSymbol self)
        {
            foreach (var member in container.GetTypeMembers())
            {
                if (member.Name.Length == 0 || !remaining.StartsWith(member.Name, StringComparison.Ordinal))
                {
                    continue;
                }

                if (member.Name.Length == remaining.Length
                    ? !SymbolEqualityComparer.Default.Equals(member, self) && JobTypeSupport.HasAttribute(member, KnownNames.JobAttribute)
                    : HasOtherJobNamed(member, remaining.Substring(member.Name.Length), self))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
