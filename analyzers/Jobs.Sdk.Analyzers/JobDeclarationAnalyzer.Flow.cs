using System.Globalization;
using System.Linq;
using System.Text;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Jobs.Sdk.Analyzers;

// JOBS020 (queue and unique settings, [UniqueKey] members without Unique), JOBS021 (key members of unsupported types), JOBS022 (ConcurrencyLimit below 1)
// JOBS023 ([ConcurrencyKey] members without a ConcurrencyLimit) and JOBS024 (a whole-payload unique key with a member of unstable order).
public sealed partial class JobDeclarationAnalyzer
{
    /// <summary>The longest queue name, in UTF-8 bytes (<c>JobTextLimits.MaxIndexedBytes</c> in Jobs.Sdk).</summary>
    internal const int MaxQueueNameBytes = 1000;

    private static void AnalyzeFlow(SymbolAnalysisContext context, INamedTypeSymbol type, AttributeData attribute, AttributeSyntax? syntax, Location attributeLocation)
    {
        var unique = false;
        int? uniqueFor = null;
        int? concurrencyLimit = null;
        string? queue = null;
        var queueSet = false;
        ITypeSymbol? jsonContext = null;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case KnownNames.JobAttributeUnique when named.Value.Value is bool u:
                    unique = u;
                    break;
                case KnownNames.JobAttributeUniqueFor when named.Value.Value is int f:
                    uniqueFor = f;
                    break;
                case KnownNames.JobAttributeConcurrencyLimit when named.Value.Value is int c:
                    concurrencyLimit = c;
                    break;
                case KnownNames.JobAttributeJsonContext when named.Value.Value is ITypeSymbol contextType:
                    jsonContext = contextType;
                    break;
                case KnownNames.JobAttributeQueue:
                    queueSet = true;
                    queue = named.Value.Value as string;
                    break;
            }
        }

        Location At(string key) => syntax?.ArgumentList?.Arguments
            .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == key)?.GetLocation() ?? attributeLocation;

        if (uniqueFor is { } seconds)
        {
            var problem = seconds < 0 ? "it must not be negative (0 holds the key only while the job is unfinished)"
                : !unique ? "it needs Unique = true (UniqueFor is how long a unique key holds after the job finished)"
                : null;
            if (problem is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidFlowSetting, At(KnownNames.JobAttributeUniqueFor),
                    "UniqueFor = " + seconds.ToString(CultureInfo.InvariantCulture), problem));
            }
        }

        if (queueSet && (queue is null || queue.Length == 0 || queue.IndexOf('\0') >= 0))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidFlowSetting, At(KnownNames.JobAttributeQueue),
                "Queue", "a queue name must be non-empty and contain no NUL characters (leave Queue unset for the default queue)"));
        }
        else if (queueSet && (char.IsWhiteSpace(queue![0]) || char.IsWhiteSpace(queue[queue.Length - 1])))
        {
            // JobTextLimits.CheckQueueName refuses it at run time: names are kept exactly, so it would be another queue.
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidFlowSetting, At(KnownNames.JobAttributeQueue),
                "Queue", "a queue name must not start or end with whitespace: " + Quote(queue) + (string.IsNullOrWhiteSpace(queue)
                    ? " is only whitespace"
                    : " would be another queue than " + Quote(queue.Trim()))));
        }
        else if (queueSet && IndexOfUnpairedSurrogate(queue!) is var lone && lone >= 0)
        {
            // JobTextLimits.CheckQueueName refuses it at run time, when the JobQueue is built (the app fails at start) or pushes.
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidFlowSetting, At(KnownNames.JobAttributeQueue),
                "Queue", "the queue name contains " + UnpairedSurrogateAt(queue!, lone) + ", which no store can hold (it has no UTF-8 form)"));
        }
        else if (queueSet && Encoding.UTF8.GetByteCount(queue!) is var bytes && bytes > MaxQueueNameBytes)
        {
            // JobTextLimits.CheckQueueName refuses it at run time: queue names sit in PostgreSQL btree indexes.
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidFlowSetting, At(KnownNames.JobAttributeQueue),
                "Queue", "the queue name is " + bytes.ToString(CultureInfo.InvariantCulture) + " bytes of UTF-8 (" + queue!.Length.ToString(CultureInfo.InvariantCulture)
                + " characters); at most " + MaxQueueNameBytes.ToString(CultureInfo.InvariantCulture) + " bytes are allowed (PostgreSQL indexes it)"));
        }

        if (concurrencyLimit is < 1)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidConcurrencyLimit, At(KnownNames.JobAttributeConcurrencyLimit),
                concurrencyLimit.Value.ToString(CultureInfo.InvariantCulture)));
        }

        if (!unique)
        {
            // The runtime reads [UniqueKey] members only for a Unique type (JobOptions.UniqueKey replaces them otherwise).
            foreach (var (member, _, location) in KeyMemberSupport.FindMarked(type, KnownNames.UniqueKeyAttribute))
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidFlowSetting, location ?? attributeLocation,
                    "[UniqueKey] member '" + member.Name + "'", "'" + type.Name + "' does not set Unique = true on [Job], so its pushes are not unique "
                    + "and the key is never used; set Unique = true, or remove the attribute"));
            }
        }
        else if (KeyMemberSupport.FindMarked(type, KnownNames.UniqueKeyAttribute).Count == 0 && !type.IsGenericType)
        {
            ReportUnorderedPayload(context, type, jsonContext, attributeLocation);
        }

        ReportUnsupportedKeys(context, type, KnownNames.UniqueKeyAttribute, "UniqueKey", attributeLocation);
        ReportUnsupportedKeys(context, type, KnownNames.ConcurrencyKeyAttribute, "ConcurrencyKey", attributeLocation);
        if (concurrencyLimit is null)
        {
            foreach (var (member, _, location) in KeyMemberSupport.FindMarked(type, KnownNames.ConcurrencyKeyAttribute))
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.ConcurrencyKeyWithoutLimit, location ?? attributeLocation, member.Name, type.Name));
            }
        }
    }

    private static void ReportUnsupportedKeys(SymbolAnalysisContext context, INamedTypeSymbol type, string attributeName, string shortName, Location attributeLocation)
    {
        foreach (var (member, memberType, location) in KeyMemberSupport.FindMarked(type, attributeName))
        {
            if (KeyMemberSupport.Conversion(memberType, "x") is null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.UnsupportedKeyMember, location ?? attributeLocation,
                    shortName, member.Name, memberType.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)));
            }
        }
    }

    /// <summary>
    /// JOBS024: the payload bytes are the key, so each member must have one written form per content (the generated
    /// writer sorts dictionaries and sets of simply ordered elements; System.Text.Json, for a value the JsonSerializerContext
    /// writes, sorts nothing; see PayloadOrderSupport).
    /// </summary>
    private static void ReportUnorderedPayload(SymbolAnalysisContext context, INamedTypeSymbol type, ITypeSymbol? jsonContext, Location attributeLocation)
    {
        foreach (var (member, path, reason) in PayloadOrderSupport.FindUnordered(type, jsonContext))
        {
            var symbol = (ISymbol?)member.Parameter ?? member.Property;
            var location = SymbolEqualityComparer.Default.Equals(symbol.ContainingType ?? symbol.ContainingSymbol?.ContainingType, type)
                ? symbol.Locations.FirstOrDefault(l => l.IsInSource) ?? attributeLocation
                : attributeLocation;
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.UnorderedUniquePayload, location, type.Name, path, reason));
        }
    }
}
