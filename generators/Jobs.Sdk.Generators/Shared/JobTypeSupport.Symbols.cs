using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// Symbol queries: framework types, accessibility from generated code, file-local types, attributes, namespaces.
internal static partial class JobTypeSupport
{
    internal static bool IsFrameworkType(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace;
        while (ns is { IsGlobalNamespace: false, ContainingNamespace.IsGlobalNamespace: false })
        {
            ns = ns.ContainingNamespace;
        }

        return ns is { IsGlobalNamespace: false, Name: "System" or "Microsoft" } && type.DeclaringSyntaxReferences.Length == 0;
    }

    /// <summary>Whether generated code inside <paramref name="within"/> (or at namespace level) can name <paramref name="type"/>.</summary>
    public static bool IsAccessible(INamedTypeSymbol type, INamedTypeSymbol? within)
    {
        for (ISymbol? current = type; current is INamedTypeSymbol t; current = t.ContainingType)
        {
            if (within is not null && SymbolEqualityComparer.Default.Equals(t, within))
            {
                return true;
            }

            if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal
                && !(within is not null && IsContainedIn(within, t.ContainingType)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsContainedIn(INamedTypeSymbol type, INamedTypeSymbol? container)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, container))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the type or a type containing it is file-local (<c>file</c>): generated code in another file cannot complete it.</summary>
    public static bool IsFileLocal(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (t.IsFileLocal)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The property's setter or, for a property that overrides only the getter of a virtual settable one
    /// (<c>public override string Name =&gt; base.Name.Trim();</c>), the setter it inherits: the property is still set through
    /// it (<c>job.Name = ...</c> compiles), though <see cref="IPropertySymbol.SetMethod"/> of the override is null.
    /// </summary>
    public static IMethodSymbol? SetterOf(IPropertySymbol property)
    {
        for (IPropertySymbol? p = property; p is not null; p = p.OverriddenProperty)
        {
            if (p.SetMethod is { } setter)
            {
                return setter;
            }
        }

        return null;
    }

    public static bool HasAttribute(ISymbol symbol, string metadataName)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == metadataName)
            {
                return true;
            }
        }

        return false;
    }

    internal static bool IsInNamespace(INamedTypeSymbol type, params string[] parts)
    {
        var ns = type.ContainingNamespace;
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            if (ns is null || ns.IsGlobalNamespace || ns.Name != parts[i])
            {
                return false;
            }

            ns = ns.ContainingNamespace;
        }

        return ns is { IsGlobalNamespace: true };
    }
}
