using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

internal enum JobTypeProblemKind
{
    /// <summary>A member's type is not handled by the generated serializer and no JsonContext is given.</summary>
    UnsupportedType,
    /// <summary>A type contains itself (directly or through other types).</summary>
    Cycle,
    /// <summary>A type has no constructor the generated serializer can call, or its parameters don't match properties.</summary>
    NoUsableConstructor,
    /// <summary>The job type is generic (job types must be closed, non-generic types).</summary>
    GenericJobType,
    /// <summary>Two members of one type map to the same JSON property name.</summary>
    DuplicateJsonName,
    /// <summary>A member carries a System.Text.Json attribute the generated serializer does not honour.</summary>
    UnsupportedAttribute,
    /// <summary>A member goes through the JsonContext, but System.Text.Json cannot read back what it writes for its type.</summary>
    ContextRoundTrip,
}

/// <summary>Why the generated serializer cannot handle a job type.</summary>
internal sealed class JobTypeProblem
{
    public JobTypeProblem(JobTypeProblemKind kind, ISymbol? rootMember, ISymbol? member, string memberPath, ITypeSymbol? type, string reason)
    {
        Kind = kind;
        RootMember = rootMember;
        Member = member;
        MemberPath = memberPath;
        Type = type;
        Reason = reason;
    }

    public JobTypeProblemKind Kind { get; }
    /// <summary>The job type's own member that leads to the problem (report here), when there is one.</summary>
    public ISymbol? RootMember { get; }
    /// <summary>The innermost member whose type is the problem (may belong to a nested type).</summary>
    public ISymbol? Member { get; }
    /// <summary>A readable path from the job type, for example <c>Items[].Sku</c>; empty for the job type itself.</summary>
    public string MemberPath { get; }
    /// <summary>The offending type.</summary>
    public ITypeSymbol? Type { get; }
    /// <summary>A sentence saying what is wrong.</summary>
    public string Reason { get; }
}
