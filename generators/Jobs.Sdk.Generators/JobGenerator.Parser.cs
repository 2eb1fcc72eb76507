using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Xml.Linq;
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
    internal static class Parser
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
                handlers.Add(new HandlerModel(type.ToDisplayString(PlainFormat), job.ToDisplayString(PlainFormat), isLocal && hasAttribute));
            }

            return handlers is null ? EquatableArray<HandlerModel>.Empty : handlers.ToEquatableArray();
        }

        /// <summary>Combines the generated jobs and the handlers found in the assembly into the registration model.</summary>
        public static RegistrationModel CreateRegistration(ImmutableArray<string> localJobs, ImmutableArray<HandlerModel> handlers, AssemblyModel assembly)
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
                assembly.GrantsInternalsVisibleTo);
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

            if (JobTypeSupport.FindProblem(type, jsonContext is not null) is not null)
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
                foreach (var parameter in constructor.Parameters)
                {
                    ctorDocs.Parameters.TryGetValue(parameter.Name, out var doc);
                    if (doc is null)
                    {
                        docs.Parameters.TryGetValue(parameter.Name, out doc);
                    }

                    pushParameters.Add(new PushParameterModel(EscapeIdentifier(parameter.Name), parameter.Type.ToDisplayString(AnnotatedFormat),
                        parameter.HasExplicitDefaultValue ? DefaultLiteral(parameter) : null, doc));
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
                new JobFlowModel(queue, unique, uniqueFor, keyTexts(KnownNames.UniqueKeyAttribute), concurrencyLimit,
                    keyTexts(KnownNames.ConcurrencyKeyAttribute)));

            EquatableArray<string> keyTexts(string attributeName) => KeyMemberSupport.FindMarked(type, attributeName)
                .Select(m => KeyMemberSupport.Conversion(m.Type, "job." + EscapeIdentifier(m.Member.Name)))
                .OfType<string>()
                .ToEquatableArray();

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

        /// <summary>Walks the member graph of a job, producing one <see cref="ObjectModel"/> per user type.</summary>
        private sealed class GraphBuilder
        {
            private readonly INamedTypeSymbol _job;
            private readonly bool _hasContext;
            private readonly Dictionary<ITypeSymbol, string> _ids = new(SymbolEqualityComparer.Default);
            private readonly Dictionary<string, int> _contextIndexes = new(StringComparer.Ordinal);

            public GraphBuilder(INamedTypeSymbol job, bool hasContext)
            {
                _job = job;
                _hasContext = hasContext;
            }

            public List<ObjectModel> Objects { get; } = [];

            public List<ContextTypeModel> ContextTypes { get; } = [];

            public List<EnumModel> Enums { get; } = [];

            /// <summary>Some member type comes from a <c>#nullable disable</c> context (the emitter then silences nullable warnings).</summary>
            public bool HasObliviousNullability { get; private set; }

            public string GetObjectId(INamedTypeSymbol type)
            {
                if (_ids.TryGetValue(type, out var existing))
                {
                    return existing;
                }

                var id = Objects.Count.ToString(CultureInfo.InvariantCulture);
                _ids.Add(type, id);
                var index = Objects.Count;
                Objects.Add(null!);
                var shape = JobTypeSupport.GetObjectShape(type, out _)!;
                var members = new List<MemberModel>();
                foreach (var member in shape.Members)
                {
                    var setter = member.Property.SetMethod;
                    var declaring = (setter?.ContainingType ?? member.Property.ContainingType).ToDisplayString(PlainFormat);
                    members.Add(new MemberModel(
                        member.Name,
                        member.JsonName,
                        BuildType(member.Type),
                        member.Parameter is not null,
                        member.IsRequired,
                        member.IsRequiredProperty && !shape.ConstructorSetsRequiredMembers,
                        member.IsInitOnly,
                        member.Parameter is { HasExplicitDefaultValue: true } p ? DefaultLiteral(p) : "default!",
                        declaring,
                        member.Property.ContainingType.IsValueType,
                        member.Ignore switch
                        {
                            JsonIgnoreKind.Always or JsonIgnoreKind.WhenWriting => MemberWriteCondition.Never,
                            JsonIgnoreKind.WhenWritingNull => MemberWriteCondition.WhenNotNull,
                            JsonIgnoreKind.WhenWritingDefault => MemberWriteCondition.WhenNotDefault,
                            _ => MemberWriteCondition.Always,
                        },
                        member.IsRead,
                        type.Name + "." + member.Name));
                }

                Objects[index] = new ObjectModel(id, type.ToDisplayString(PlainFormat), type.Name, type.IsValueType, !type.IsValueType && !type.IsSealed,
                    members.ToEquatableArray());
                return id;
            }

            private string GetEnumId(INamedTypeSymbol type)
            {
                if (_ids.TryGetValue(type, out var existing))
                {
                    return existing;
                }

                var id = "e" + Enums.Count.ToString(CultureInfo.InvariantCulture);
                _ids.Add(type, id);
                var seen = new HashSet<object>();
                var members = type.GetMembers().OfType<IFieldSymbol>()
                    .Where(f => f.HasConstantValue && f.ConstantValue is not null && seen.Add(f.ConstantValue))
                    .Select(f => f.Name)
                    .ToEquatableArray();
                Enums.Add(new EnumModel(id, type.ToDisplayString(PlainFormat), members));
                return id;
            }

            private TypeModel BuildType(ITypeSymbol type)
            {
                var shape = JobTypeSupport.Classify(type, _hasContext, _job);
                if (!type.IsValueType && type.NullableAnnotation == NullableAnnotation.None)
                {
                    HasObliviousNullability = true;
                }

                var element = shape.Element is null ? null : BuildType(shape.Element);
                string? objectId = null;
                var contextIndex = -1;
                var typeOfName = type.ToDisplayString(PlainFormat);
                switch (shape.Kind)
                {
                    case JsonTypeKind.Object:
                        objectId = GetObjectId((INamedTypeSymbol)type);
                        break;
                    case JsonTypeKind.Enum:
                        objectId = GetEnumId((INamedTypeSymbol)type);
                        break;
                    case JsonTypeKind.JsonContext:
                        if (!_contextIndexes.TryGetValue(typeOfName, out contextIndex))
                        {
                            contextIndex = ContextTypes.Count;
                            _contextIndexes.Add(typeOfName, contextIndex);
                            ContextTypes.Add(new ContextTypeModel(contextIndex, typeOfName));
                        }

                        break;
                }

                return new TypeModel(shape.Kind, type.ToDisplayString(AnnotatedFormat), typeOfName, JobTypeSupport.AllowsNull(type), type.IsValueType,
                    element, objectId, contextIndex);
            }

        }

        /// <summary>"public" when the type and all its containers are public, "internal" when all are at least internal, else null.</summary>
        private static string? EffectiveAccessibility(INamedTypeSymbol type)
        {
            var result = "public";
            for (var t = type; t is not null; t = t.ContainingType)
            {
                switch (t.DeclaredAccessibility)
                {
                    case Accessibility.Public:
                        break;
                    case Accessibility.Internal or Accessibility.ProtectedOrInternal:
                        result = "internal";
                        break;
                    default:
                        return null;
                }
            }

            return result;
        }

        private static string DeclarationOf(INamedTypeSymbol type)
        {
            var kind = type switch
            {
                { IsRecord: true, IsValueType: true } => "record struct",
                { IsRecord: true } => "record",
                { IsValueType: true } => "struct",
                { TypeKind: TypeKind.Interface } => "interface",
                _ => "class",
            };
            var readOnly = type.IsValueType && type.IsReadOnly ? "readonly " : "";
            return $"{readOnly}partial {kind} {EscapeIdentifier(type.Name)}";
        }

        /// <summary>The dotted namespace name without keyword escapes.</summary>
        private static string NamespaceName(INamespaceSymbol ns)
            => ns.ContainingNamespace is null or { IsGlobalNamespace: true } ? ns.Name : NamespaceName(ns.ContainingNamespace) + "." + ns.Name;

        private static string EscapeIdentifier(string name)
            => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        /// <summary>A C# expression for a parameter's default value.</summary>
        private static string DefaultLiteral(IParameterSymbol parameter)
        {
            var type = parameter.Type;
            var value = parameter.ExplicitDefaultValue;
            if (value is null)
            {
                if (type.IsValueType)
                {
                    return type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T ? "null" : "default";
                }

                return type.NullableAnnotation == NullableAnnotation.NotAnnotated ? "null!" : "null";
            }

            var underlying = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n ? n.TypeArguments[0] : type;
            if (underlying.TypeKind == TypeKind.Enum)
            {
                return $"({underlying.ToDisplayString(PlainFormat)})({SymbolDisplay.FormatPrimitive(value, quoteStrings: false, useHexadecimalNumbers: false)})";
            }

            switch (value)
            {
                case double d when double.IsNaN(d): return "double.NaN";
                case double d when double.IsPositiveInfinity(d): return "double.PositiveInfinity";
                case double d when double.IsNegativeInfinity(d): return "double.NegativeInfinity";
                case float f when float.IsNaN(f): return "float.NaN";
                case float f when float.IsPositiveInfinity(f): return "float.PositiveInfinity";
                case float f when float.IsNegativeInfinity(f): return "float.NegativeInfinity";
                case double d: return d.ToString("R", CultureInfo.InvariantCulture) + "D";
                case float f: return f.ToString("R", CultureInfo.InvariantCulture) + "F";
                case decimal m: return m.ToString(CultureInfo.InvariantCulture) + "M";
                case long l: return l.ToString(CultureInfo.InvariantCulture) + "L";
                case ulong ul: return ul.ToString(CultureInfo.InvariantCulture) + "UL";
                case uint ui: return ui.ToString(CultureInfo.InvariantCulture) + "U";
                case bool b: return b ? "true" : "false";
                default:
                    var literal = SymbolDisplay.FormatPrimitive(value, quoteStrings: true, useHexadecimalNumbers: false);
                    return value is byte or sbyte or short or ushort ? $"({underlying.ToDisplayString(PlainFormat)}){literal}" : literal;
            }
        }

        private sealed class Documentation
        {
            public string? Summary { get; set; }
            public Dictionary<string, string> Parameters { get; } = new(StringComparer.Ordinal);
        }

        private static Documentation ParseDocumentation(string? xml)
        {
            var result = new Documentation();
            if (string.IsNullOrWhiteSpace(xml))
            {
                return result;
            }

            try
            {
                var root = XElement.Parse(xml);
                if (root.Element("summary") is { } summary)
                {
                    result.Summary = InnerXml(summary);
                }

                foreach (var param in root.Elements("param"))
                {
                    if (param.Attribute("name")?.Value is { } name)
                    {
                        result.Parameters[name] = InnerXml(param);
                    }
                }
            }
            catch (System.Xml.XmlException)
            {
                // Malformed documentation: fall back to generated text.
            }

            return result;
        }

        private static string InnerXml(XElement element)
        {
            var text = string.Concat(element.Nodes().Select(n => n.ToString(SaveOptions.DisableFormatting)));
            var lines = text.Replace("\r\n", "\n").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);
            return string.Join(" ", lines);
        }
    }
}
