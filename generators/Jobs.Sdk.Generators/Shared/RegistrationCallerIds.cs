using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

/// <summary>
/// How the generator names, in <c>[JobRegistrationCallers]</c>, a member whose body calls <c>AddGeneratedJobs()</c>, and how
/// JOBS025 names a member a project calls: the same id from the source symbol of the library and the metadata symbol of
/// the project that references it. Shared by file link with <c>Jobs.Sdk.Analyzers</c>.
/// </summary>
internal static class RegistrationCallerIds
{
    /// <summary>
    /// The member's documentation comment id without the return type some compilers append (<c>~Type</c>): a library and a
    /// project referencing it may be compiled by different compilers. Only methods and constructors are named, and those
    /// cannot differ by return type alone.
    /// </summary>
    public static string? Of(IMethodSymbol method)
    {
        var id = DocumentationCommentId.CreateDeclarationId(method);
        var tilde = id?.IndexOf('~') ?? -1;
        return tilde < 0 ? id : id!.Substring(0, tilde);
    }
}
