using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Jobs.Sdk.Analyzers;

/// <summary>
/// Checks <c>[Job]</c> declarations: partial/generic/abstract shape (JOBS004–006), the job name (JOBS007), attribute
/// settings (JOBS008) and job names unique across the compilation (JOBS003). Symbol actions only: each <c>[Job]</c> type is
/// looked at once; the duplicate-name check collects names and reports at compilation end.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed partial class JobDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The longest per-attempt timeout, in seconds, a CancellationTokenSource accepts (uint.MaxValue - 1 ms).</summary>
    public const int MaxTimeoutSeconds = 4_294_967;

    /// <summary>Longest job name the drivers store.</summary>
    public const int MaxJobNameLength = 255;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.DuplicateJobName,
        Descriptors.JobTypeNotPartial,
        Descriptors.GenericJobType,
        Descriptors.AbstractJobType,
        Descriptors.InvalidJobName,
        Descriptors.InvalidAttributeSetting,
        Descriptors.InvalidConcurrencyLimit,
        Descriptors.ConcurrencyKeyWithoutLimit,
        Descriptors.UnsupportedMemberType,
        Descriptors.ContextRoundTrip,
        Descriptors.DuplicateJsonName,
        Descriptors.UnserializedMember,
        Descriptors.UnsupportedJsonAttribute,
        Descriptors.GeneratedMethodNameCollision,
        Descriptors.InvalidFlowSetting,
        Descriptors.UnsupportedKeyMember,
        Descriptors.UnorderedUniquePayload);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (KnownSymbols.TryCreate(start.Compilation) is not { } known)
            {
                return;
            }

            var names = new ConcurrentBag<(string Name, INamedTypeSymbol Type, Location Location)>();
            start.RegisterSymbolAction(symbolContext => AnalyzeType(symbolContext, known, names), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(end => ReportDuplicateNames(end, known, names));
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, KnownSymbols known, ConcurrentBag<(string, INamedTypeSymbol, Location)> names)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var attribute = known.GetJobAttribute(type);
        if (attribute is null)
        {
            // A type containing a job must be partial too. Reported from the container's own action so the diagnostic
            // stays local to the symbol being analyzed (which code fixes and IDE live analysis need).
            if (type.GetTypeMembers().Length > 0 && !IsPartial(type) && FindNestedJob(type, known) is { } nested)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.JobTypeNotPartial, IdentifierLocation(type),
                    type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat),
                    "it contains job type '" + nested.Name + "', which the Jobs.Sdk generator extends"));
            }

            return;
        }

        var typeName = type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
        var identifier = IdentifierLocation(type);

        // Shape: the generator adds members to the type, so it must be partial.
        if (!IsPartial(type))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.JobTypeNotPartial, identifier, typeName,
                "the Jobs.Sdk generator implements IJob<" + type.Name + "> in it"));
        }

        if (type.IsGenericType)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.GenericJobType, identifier, typeName));
        }

        if (type.IsStatic || type.IsAbstract)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.AbstractJobType, identifier, typeName, type.IsStatic ? "static" : "abstract",
                "workers create it from its JSON payload"));
        }
        else if (JobTypeSupport.IsFileLocal(type))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.AbstractJobType, identifier, typeName, "file-local",
                "the generator completes it in a file of its own, which cannot see a 'file' type; make it internal"));
        }
        else if (type.IsRefLikeType)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.AbstractJobType, identifier, typeName, "a ref struct",
                "IJob<T>, the queue and the handlers take the job as a type argument, which a ref struct cannot be; make it a struct"));
        }
        else if (!type.IsGenericType)
        {
            ReportSerializationProblem(context, type, attribute, typeName, identifier);
        }

        ReportNameCollisions(context, type, known, typeName, identifier);

        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) as AttributeSyntax;
        var attributeLocation = syntax?.GetLocation() ?? identifier;

        // Name.
        if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Kind != TypedConstantKind.Error)
        {
            var name = attribute.ConstructorArguments[0].Value as string;
            var nameLocation = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null && a.NameColon is null)?.GetLocation()
                ?? syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameColon is not null)?.GetLocation()
                ?? attributeLocation;
            if (ValidateJobName(name) is { } problem)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidJobName, nameLocation, Quote(name), problem));
            }
            else
            {
                names.Add((name!, type, nameLocation));
            }
        }

        // Settings (only when set explicitly).
        foreach (var named in attribute.NamedArguments)
        {
            if (named.Value.Value is not int value)
            {
                continue;
            }

            var problem = named.Key switch
            {
                "MaxAttempts" when value < 1 => "it must be at least 1 (leave it unset to use the queue's retry strategy)",
                "TimeoutSeconds" when value <= 0 => "it must be greater than 0 (leave it unset for no timeout)",
                "TimeoutSeconds" when value > MaxTimeoutSeconds => "it must be at most " + MaxTimeoutSeconds.ToString(CultureInfo.InvariantCulture)
                    + " (about 49.7 days, the longest timeout a CancellationTokenSource accepts)",
                _ => null,
            };
            if (problem is not null)
            {
                var location = syntax?.ArgumentList?.Arguments
                    .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == named.Key)?.GetLocation() ?? attributeLocation;
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidAttributeSetting, location,
                    named.Key, value.ToString(CultureInfo.InvariantCulture), problem));
            }
        }

        AnalyzeFlow(context, type, attribute, syntax, attributeLocation);
    }

    /// <summary>JOBS010: the generator's own classification (linked from Shared/) decides what it can serialize.</summary>
    private static void ReportSerializationProblem(SymbolAnalysisContext context, INamedTypeSymbol type, AttributeData attribute, string typeName, Location identifier)
    {
        ITypeSymbol? jsonContext = null;
        foreach (var named in attribute.NamedArguments)
        {
            jsonContext ??= named.Key == KnownNames.JobAttributeJsonContext ? named.Value.Value as ITypeSymbol : null;
        }

        var hasJsonContext = jsonContext is not null;
        if (JobTypeSupport.FindProblem(type, hasJsonContext, jsonContext) is not { Kind: not JobTypeProblemKind.GenericJobType } problem)
        {
            ReportUnserializedMembers(context, type, hasJsonContext, typeName);
            return;
        }

        // Report on the job's own member that leads to the problem when it is declared in this type, else on the type.
        var location = identifier;
        if (problem.RootMember is { } root && SymbolEqualityComparer.Default.Equals(root.ContainingType, type)
            && root.Locations.FirstOrDefault(l => l.IsInSource) is { } memberLocation)
        {
            location = memberLocation;
        }

        if (problem.Kind is JobTypeProblemKind.DuplicateJsonName or JobTypeProblemKind.UnsupportedAttribute)
        {
            if (problem.Member is { } member && SymbolEqualityComparer.Default.Equals(member.ContainingType ?? member.ContainingSymbol?.ContainingType, type)
                && member.Locations.FirstOrDefault(l => l.IsInSource) is { } attributeMemberLocation)
            {
                location = attributeMemberLocation;
            }

            context.ReportDiagnostic(Diagnostic.Create(
                problem.Kind == JobTypeProblemKind.DuplicateJsonName ? Descriptors.DuplicateJsonName : Descriptors.UnsupportedJsonAttribute,
                location, typeName, problem.Reason));
            return;
        }

        var subject = problem.MemberPath.Length == 0
            ? "type '" + typeName + "'"
            : "member '" + problem.MemberPath + "'" + (problem.Type is null ? "" : " (type '" + problem.Type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat) + "')");
        context.ReportDiagnostic(problem.Kind == JobTypeProblemKind.ContextRoundTrip
            ? Diagnostic.Create(Descriptors.ContextRoundTrip, location, typeName, subject, problem.Reason)
            : Diagnostic.Create(Descriptors.UnsupportedMemberType, location, typeName, subject, problem.Reason));
    }

    /// <summary>JOBS013: members holding data the payload does not carry (in this compilation's source only).</summary>
    private static void ReportUnserializedMembers(SymbolAnalysisContext context, INamedTypeSymbol type, bool hasJsonContext, string typeName)
    {
        foreach (var (member, reason) in JobTypeSupport.FindUnserializedMembers(type, hasJsonContext))
        {
            if (member.Locations.FirstOrDefault(l => l.IsInSource) is { SourceTree: { } tree } location && context.Compilation.ContainsSyntaxTree(tree))
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.UnserializedMember, location,
                    member.ContainingType.Name + "." + member.Name, typeName, reason));
            }
        }
    }

    /// <summary>JOBS014: a generated extension method hidden by an instance member of JobQueue or JobsBuilder.</summary>
    private static void ReportNameCollisions(SymbolAnalysisContext context, INamedTypeSymbol type, KnownSymbols known, string typeName, Location identifier)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (t.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            {
                return;
            }
        }

        foreach (var (target, method) in new[] { (known.JobQueue, KnownNames.PushMethodName(type.Name)), (known.JobsBuilder, KnownNames.AddMethodName(type.Name)) })
        {
            if (target is not null && target.GetMembers(method).Any(m => !m.IsStatic && m.DeclaredAccessibility == Accessibility.Public))
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.GeneratedMethodNameCollision, identifier, method, typeName, target.Name + "." + method));
            }
        }
    }

    private static void ReportDuplicateNames(CompilationAnalysisContext context, KnownSymbols known, ConcurrentBag<(string Name, INamedTypeSymbol Type, Location Location)> names)
    {
        if (names.IsEmpty)
        {
            return;
        }

        var referenced = ReferencedJobNames.Find(context.Compilation, known,
            new HashSet<string>(names.Select(n => n.Name), System.StringComparer.Ordinal), context.CancellationToken);
        foreach (var group in names.GroupBy(n => n.Name, System.StringComparer.Ordinal))
        {
            var entries = group.ToList();
            var elsewhere = referenced.TryGetValue(group.Key, out var types) ? types : [];
            if (entries.Count + elsewhere.Count < 2)
            {
                continue;
            }

            foreach (var entry in entries)
            {
                var others = string.Join("', '", entries
                    .Where(e => !SymbolEqualityComparer.Default.Equals(e.Type, entry.Type))
                    .Select(e => e.Type.ToDisplayString())
                    .Concat(elsewhere)
                    .OrderBy(n => n, System.StringComparer.Ordinal));
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.DuplicateJobName, entry.Location,
                    entry.Name, entry.Type.ToDisplayString(), others));
            }
        }
    }

    /// <summary>Why <paramref name="name"/> is not a valid job name, or <see langword="null"/> when it is.</summary>
    public static string? ValidateJobName(string? name)
    {
        if (name is null || name.Length == 0)
        {
            return "it is empty";
        }

        if (name.Length > MaxJobNameLength)
        {
            return "it is " + name.Length.ToString(CultureInfo.InvariantCulture) + " characters long (at most " +
                MaxJobNameLength.ToString(CultureInfo.InvariantCulture) + ")";
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            return "it is only whitespace";
        }

        // Names are kept exactly: 'send-email ' would be another job than 'send-email' (JobNameRules refuses it at run time too).
        if (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[name.Length - 1]))
        {
            return "it starts or ends with whitespace";
        }

        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsControl(name[i]))
            {
                return "it contains the control character U+" + ((int)name[i]).ToString("X4", CultureInfo.InvariantCulture) +
                    " at index " + i.ToString(CultureInfo.InvariantCulture);
            }
        }

        // No store can hold it (no UTF-8 form; Jobs.Sdk's JobTextLimits); the runtime refuses it at registration too
        // (JobNameRules, which keeps these rules for hand-written IJob types).
        return IndexOfUnpairedSurrogate(name) is var at && at >= 0
            ? "it contains " + UnpairedSurrogateAt(name, at)
            : null;
    }

    /// <summary>The index of the first unpaired UTF-16 surrogate of <paramref name="text"/>, or -1 (Jobs.Sdk's <c>JobTextLimits</c>).</summary>
    internal static int IndexOfUnpairedSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>"an unpaired surrogate (U+D800) at index 2": the surrogate of <paramref name="text"/> at <paramref name="at"/>.</summary>
    internal static string UnpairedSurrogateAt(string text, int at)
        => "an unpaired surrogate (U+" + ((int)text[at]).ToString("X4", CultureInfo.InvariantCulture) + ") at index " + at.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string? name)
    {
        if (name is null)
        {
            return "null";
        }

        var builder = new StringBuilder("'");
        foreach (var c in name.Length > 40 ? name.Substring(0, 37) + "..." : name)
        {
            builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) : c.ToString());
        }

        return builder.Append('\'').ToString();
    }

    private static INamedTypeSymbol? FindNestedJob(INamedTypeSymbol type, KnownSymbols known)
    {
        foreach (var member in type.GetTypeMembers())
        {
            if (known.GetJobAttribute(member) is not null)
            {
                return member;
            }

            if (FindNestedJob(member, known) is { } deeper)
            {
                return deeper;
            }
        }

        return null;
    }

    internal static bool IsPartial(INamedTypeSymbol type)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is TypeDeclarationSyntax declaration && declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return true;
            }
        }

        // Types from metadata (no syntax) are never ours to report.
        return type.DeclaringSyntaxReferences.Length == 0;
    }

    private static Location IdentifierLocation(INamedTypeSymbol type)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is BaseTypeDeclarationSyntax declaration)
            {
                return declaration.Identifier.GetLocation();
            }
        }

        return type.Locations.FirstOrDefault() ?? Location.None;
    }
}
