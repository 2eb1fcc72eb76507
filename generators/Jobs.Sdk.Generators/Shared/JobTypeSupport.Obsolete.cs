using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// [Obsolete] and [Experimental] on what generated code names: which diagnostics it must silence, and what it cannot name at all.
internal static partial class JobTypeSupport
{
    private const string ObsoleteAttributeName = "System.ObsoleteAttribute";
    private const string ExperimentalAttributeName = "System.Diagnostics.CodeAnalysis.ExperimentalAttribute";

    /// <summary>
    /// Whether the symbol is <c>[Obsolete(..., true)]</c>: naming it is error CS0619, which no pragma silences.
    /// </summary>
    public static bool IsObsoleteError(ISymbol symbol)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == ObsoleteAttributeName
                && attribute.ConstructorArguments.Length == 2 && attribute.ConstructorArguments[1].Value is true)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Why naming <paramref name="symbol"/> (or the type declaring it) in generated code is error CS0619, or <see langword="null"/>.
    /// </summary>
    public static string? ObsoleteErrorReason(ISymbol symbol)
    {
        for (var s = symbol; s is not null; s = s.ContainingType)
        {
            if (IsObsoleteError(s))
            {
                var name = (s is ITypeSymbol type ? type.WithNullableAnnotation(NullableAnnotation.None) : s).ToDisplayString();
                return $"'{name}' is [Obsolete(..., error: true)], which the generated serializer cannot read or write (CS0619); "
                    + "keep it [Obsolete] without error: true while queued jobs drain, then remove it";
            }
        }

        return null;
    }

    /// <summary>
    /// Adds the diagnostic ids that naming <paramref name="symbol"/> reports besides CS0612/CS0618: an <c>[Obsolete]</c>
    /// <c>DiagnosticId</c> and an <c>[Experimental]</c> id, on the symbol, the types declaring it, its assembly or module.
    /// </summary>
    public static void AddDiagnosticIds(ISymbol? symbol, ISet<string> ids)
    {
        if (symbol is null)
        {
            return;
        }

        for (var s = symbol; s is not null; s = s.ContainingType)
        {
            AddIds(s.GetAttributes(), ids);
        }

        if (symbol.ContainingModule is { } module)
        {
            AddIds(module.GetAttributes(), ids);
        }

        if (symbol.ContainingAssembly is { } assembly)
        {
            AddIds(assembly.GetAttributes(), ids);
        }
    }

    /// <summary>Adds the ids of a type, its type arguments and its array or pointer element (<c>List&lt;Part&gt;</c>, <c>Part[]</c>).</summary>
    public static void AddTypeDiagnosticIds(ITypeSymbol? type, ISet<string> ids)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                AddTypeDiagnosticIds(array.ElementType, ids);
                return;
            case INamedTypeSymbol named:
                AddDiagnosticIds(named, ids);
                foreach (var argument in named.TypeArguments)
                {
                    AddTypeDiagnosticIds(argument, ids);
                }

                return;
        }
    }

    private static void AddIds(IEnumerable<AttributeData> attributes, ISet<string> ids)
    {
        foreach (var attribute in attributes)
        {
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case ObsoleteAttributeName:
                case ExperimentalAttributeName when attribute.ConstructorArguments.Length == 1:
                    var id = attribute.AttributeClass.Name == "ExperimentalAttribute"
                        ? attribute.ConstructorArguments[0].Value as string
                        : NamedString(attribute, "DiagnosticId");
                    if (id is { Length: > 0 } && IsIdentifierLike(id))
                    {
                        ids.Add(id);
                    }

                    break;
            }
        }
    }

    private static string? NamedString(AttributeData attribute, string name)
    {
        foreach (var named in attribute.NamedArguments)
        {
            if (named.Key == name)
            {
                return named.Value.Value as string;
            }
        }

        return null;
    }

    // A pragma names ids as identifiers or numbers; anything else would break the generated file's syntax.
    private static bool IsIdentifierLike(string id)
    {
        foreach (var c in id)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
