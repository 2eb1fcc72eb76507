using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// The walk over a job type's graph for the first problem that stops the generator from emitting a serializer.
internal static partial class JobTypeSupport
{
    /// <summary>
    /// Walks the job type and every type reachable through its members; returns the first problem that stops the
    /// generator from emitting a serializer, or <see langword="null"/> when the whole graph is supported.
    /// </summary>
    /// <param name="jobType">The job type.</param>
    /// <param name="hasJsonContext">Whether the job names a JsonSerializerContext (unsupported types then go through it).</param>
    /// <param name="jsonContext">The context named, whose options say what System.Text.Json writes (JOBS026).</param>
    public static JobTypeProblem? FindProblem(INamedTypeSymbol jobType, bool hasJsonContext, ITypeSymbol? jsonContext = null)
    {
        if (jobType.IsGenericType)
        {
            return new JobTypeProblem(JobTypeProblemKind.GenericJobType, null, null, "", jobType,
                $"job type '{jobType.ToDisplayString()}' is generic; job types must be non-generic");
        }

        var shape = GetObjectShape(jobType, out var error);
        if (shape is null)
        {
            return new JobTypeProblem(JobTypeProblemKind.NoUsableConstructor, null, null, "", jobType, error!);
        }

        if (UnsupportedTypeAttribute(jobType) is { } attributeReason)
        {
            return new JobTypeProblem(JobTypeProblemKind.UnsupportedType, null, null, "", jobType, attributeReason);
        }

        if (ObsoleteErrorReason(jobType) is { } obsoleteReason)
        {
            return new JobTypeProblem(JobTypeProblemKind.UnsupportedType, null, null, "", jobType, obsoleteReason);
        }

        var stack = new List<INamedTypeSymbol> { jobType };
        return CheckMembers(shape, jobType, hasJsonContext, JsonContextOptions.Of(jsonContext), stack, null, "");
    }

    private static JobTypeProblem? CheckMembers(JobObjectShape shape, INamedTypeSymbol job, bool hasJsonContext, JsonContextOptions context,
        List<INamedTypeSymbol> stack, ISymbol? rootMember, string path)
    {
        if (shape.FindDuplicateJsonName() is { } duplicate)
        {
            var second = (ISymbol?)duplicate.Second.Parameter ?? duplicate.Second.Property;
            return new JobTypeProblem(JobTypeProblemKind.DuplicateJsonName, rootMember ?? duplicate.Second.Property, second,
                path.Length == 0 ? duplicate.Second.Name : path + "." + duplicate.Second.Name, shape.Type,
                $"'{duplicate.First.Name}' and '{duplicate.Second.Name}' of '{shape.Type.ToDisplayString()}' both map to the JSON property '{duplicate.Second.JsonName}'");
        }

        if (FindUnsupportedMemberAttribute(shape) is { } unsupported)
        {
            return new JobTypeProblem(JobTypeProblemKind.UnsupportedAttribute, rootMember ?? unsupported.Member, unsupported.Member,
                path.Length == 0 ? unsupported.Member.Name : path + "." + unsupported.Member.Name, shape.Type, unsupported.Reason);
        }

        foreach (var member in shape.Members)
        {
            var memberSymbol = (ISymbol?)member.Parameter ?? member.Property;
            var root = rootMember ?? member.Property;
            var memberPath = path.Length == 0 ? member.Name : path + "." + member.Name;
            // Generated code reads and writes such a property through [UnsafeAccessor]s (a positional parameter carries no
            // [Obsolete] itself); where it must name it (a required member's initializer, a key member's key text) it does
            // so inside a generated member marked [Obsolete]. An accessor on a generic type would have to be generic itself.
            if (IsObsoleteError(member.Property) && !CanUseThroughAccessors(member))
            {
                return new JobTypeProblem(JobTypeProblemKind.UnsupportedType, root, member.Property, memberPath, member.Type,
                    $"'{member.Property.ToDisplayString()}' is [Obsolete(..., error: true)] and declared on a generic type, whose "
                    + "[UnsafeAccessor]s the generated serializer does not emit (naming it is CS0619); keep it [Obsolete] without "
                    + "error: true while queued jobs drain, then remove it");
            }

            var problem = CheckType(member.Type, job, hasJsonContext, context, stack, root, memberSymbol, memberPath);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether generated code can read and write an <c>[Obsolete(..., error: true)]</c> property without naming it: through
    /// <c>[UnsafeAccessor]</c>s on non-generic declaring types.
    /// </summary>
    private static bool CanUseThroughAccessors(JobMemberShape member)
        => member.Property.GetMethod is { } getter && !IsInGenericType(getter.ContainingType)
            && (SetterOf(member.Property) is not { } setter || !IsInGenericType(setter.ContainingType));

    private static bool IsInGenericType(INamedTypeSymbol? type)
    {
        for (; type is not null; type = type.ContainingType)
        {
            if (type.IsGenericType)
            {
                return true;
            }
        }

        return false;
    }

    private static JobTypeProblem? CheckType(ITypeSymbol type, INamedTypeSymbol job, bool hasJsonContext, JsonContextOptions context,
        List<INamedTypeSymbol> stack, ISymbol root, ISymbol member, string path)
    {
        if (type is INamedTypeSymbol namedType && ObsoleteErrorReason(namedType) is { } obsoleteReason)
        {
            return new JobTypeProblem(JobTypeProblemKind.UnsupportedType, root, member, path, type, obsoleteReason);
        }

        var shape = Classify(type, hasJsonContext, job);
        switch (shape.Kind)
        {
            case JsonTypeKind.Unsupported:
                return new JobTypeProblem(JobTypeProblemKind.UnsupportedType, root, member, path, type,
                    shape.Reason + "; use a supported type or name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]");
            case JsonTypeKind.Nullable:
                return CheckType(shape.Element!, job, hasJsonContext, context, stack, root, member, path);
            case JsonTypeKind.JsonContext:
                return ContextRoundTripProblem(type, context) is { } reason
                    ? new JobTypeProblem(JobTypeProblemKind.ContextRoundTrip, root, member, path, type, reason)
                    : null;
            case JsonTypeKind.Object:
                var named = (INamedTypeSymbol)type;
                if (stack.Any(s => SymbolEqualityComparer.Default.Equals(s, named)))
                {
                    return new JobTypeProblem(JobTypeProblemKind.Cycle, root, member, path, type,
                        $"'{named.ToDisplayString()}' contains itself through '{path}'; the generated serializer does not support cycles");
                }

                var objectShape = GetObjectShape(named, out var error);
                if (objectShape is null)
                {
                    return new JobTypeProblem(JobTypeProblemKind.NoUsableConstructor, root, member, path, type, error!);
                }

                stack.Add(named);
                var problem = CheckMembers(objectShape, job, hasJsonContext, context, stack, root, path);
                stack.RemoveAt(stack.Count - 1);
                return problem;
            default:
                if (shape.Element is not null)
                {
                    return CheckType(shape.Element, job, hasJsonContext, context, stack, root, member, path + (shape.IsDictionary ? "{}" : "[]"));
                }

                return null;
        }
    }
}
