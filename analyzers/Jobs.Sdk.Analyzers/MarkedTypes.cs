using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers;

/// <summary>The types a generated method's <c>[JobPushMethod]</c> or <c>[JobRegistrationMethod]</c> names.</summary>
internal static class MarkedTypes
{
    public static ImmutableArray<ITypeSymbol> Of(IMethodSymbol method, INamedTypeSymbol attributeType)
    {
        var builder = ImmutableArray.CreateBuilder<ITypeSymbol>();
        foreach (var attribute in method.GetAttributes())
        {
            if (!SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, attributeType) || attribute.ConstructorArguments.Length != 1)
            {
                continue;
            }

            var argument = attribute.ConstructorArguments[0];
            if (argument.Kind == TypedConstantKind.Array)
            {
                foreach (var item in argument.Values)
                {
                    if (item.Value is ITypeSymbol type)
                    {
                        builder.Add(type);
                    }
                }
            }
            else if (argument.Value is ITypeSymbol type)
            {
                builder.Add(type);
            }
        }

        return builder.ToImmutable();
    }
}
