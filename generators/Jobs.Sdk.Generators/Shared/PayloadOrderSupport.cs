using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

/// <summary>
/// Which payload members the generated writer can put in one canonical order. A dictionary enumerates in the order it
/// was filled in, and so does a set; the payload of a unique job without key members is its key, so the writer sorts
/// dictionaries by key and sets whose elements have a natural order. The generator and the analyzer (JOBS024) share it.
/// A value the job's JsonSerializerContext writes is walked the way System.Text.Json writes it (PayloadOrderSupport.JsonContext.cs).
/// </summary>
internal static partial class PayloadOrderSupport
{
    /// <summary>
    /// Elements the runtime sorts by their default order (strings ordinally): the order their equality tells apart,
    /// so one set content has one written form.
    /// </summary>
    public static bool IsSimplyOrdered(JsonTypeKind kind) => kind is JsonTypeKind.Boolean
        or JsonTypeKind.Byte or JsonTypeKind.SByte or JsonTypeKind.Int16 or JsonTypeKind.UInt16 or JsonTypeKind.Int32 or JsonTypeKind.UInt32
        or JsonTypeKind.Int64 or JsonTypeKind.UInt64 or JsonTypeKind.IntPtr or JsonTypeKind.UIntPtr
        or JsonTypeKind.Single or JsonTypeKind.Double or JsonTypeKind.Decimal or JsonTypeKind.Char or JsonTypeKind.String or JsonTypeKind.Guid
        or JsonTypeKind.DateTime or JsonTypeKind.DateTimeOffset or JsonTypeKind.DateOnly or JsonTypeKind.TimeOnly or JsonTypeKind.TimeSpan
        or JsonTypeKind.Enum;

    /// <summary>
    /// The written members of <paramref name="jobType"/> whose bytes may differ for one content: for each, the first
    /// path inside it to a set the writer cannot sort, or, inside a value written by the job's JsonSerializerContext, to a
    /// dictionary, a set or a type whose written form the walk cannot judge.
    /// </summary>
    /// <param name="jobType">The job type.</param>
    /// <param name="jsonContext">The type named by <c>[Job(JsonContext = ...)]</c>, or <see langword="null"/>.</param>
    public static List<(JobMemberShape Member, string Path, string Reason)> FindUnordered(INamedTypeSymbol jobType, ITypeSymbol? jsonContext)
    {
        var result = new List<(JobMemberShape, string, string)>();
        if (JobTypeSupport.GetObjectShape(jobType, out _) is not { } shape)
        {
            return result;
        }

        var walk = new Walk(jobType, jsonContext);
        walk.Stack.Add(jobType);
        foreach (var member in shape.Members.Where(m => m.IsWritten))
        {
            if (Find(member.Type, member.Name, walk) is { } found)
            {
                result.Add((member, found.Path, found.Reason));
            }
        }

        return result;
    }

    private static (string Path, string Reason)? Find(ITypeSymbol type, string path, Walk walk)
    {
        var shape = JobTypeSupport.Classify(type, walk.HasJsonContext, walk.Job);
        switch (shape.Kind)
        {
            case JsonTypeKind.JsonContext:
                return walk.ContextHasConverters
                    ? (path, "it is written by the job's JsonSerializerContext, whose options name converters ([JsonSourceGenerationOptions(Converters = ...)]) whose output this check cannot see")
                    : FindInContext(type, path, walk, 0);
            case JsonTypeKind.HashSet:
                var element = JobTypeSupport.Classify(shape.Element!, walk.HasJsonContext, walk.Job);
                var kind = element.Kind == JsonTypeKind.Nullable ? JobTypeSupport.Classify(element.Element!, walk.HasJsonContext, walk.Job).Kind : element.Kind;
                return IsSimplyOrdered(kind) ? null
                    : (path, "it is a set of '" + shape.Element!.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)
                        + "', which has no natural order to write it in, so it is written in the order it was filled in");
            case JsonTypeKind.Object:
                var named = (INamedTypeSymbol)type;
                if (walk.Stack.Any(s => SymbolEqualityComparer.Default.Equals(s, named)) || JobTypeSupport.GetObjectShape(named, out _) is not { } objectShape)
                {
                    return null; // a cycle or an unusable type: JOBS010 reports it
                }

                walk.Stack.Add(named);
                try
                {
                    foreach (var member in objectShape.Members.Where(m => m.IsWritten))
                    {
                        if (Find(member.Type, path + "." + member.Name, walk) is { } found)
                        {
                            return found;
                        }
                    }

                    return null;
                }
                finally
                {
                    walk.Stack.RemoveAt(walk.Stack.Count - 1);
                }

            default:
                return shape.Element is null ? null
                    : Find(shape.Element, path + (shape.IsDictionary ? "{}" : "[]"), walk);
        }
    }
}
