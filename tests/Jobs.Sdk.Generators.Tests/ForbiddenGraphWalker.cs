using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Walks an incremental-pipeline output's object graph (fields, arrays, collections) and fails on anything that would
/// pin a compilation in the generator cache or break equality: symbols, syntax, semantic models, compilations, locations.
/// </summary>
internal static class ForbiddenGraphWalker
{
    private static readonly Type[] Forbidden =
    [
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel), typeof(Compilation), typeof(Location),
        typeof(AttributeData), typeof(SyntaxToken), typeof(SyntaxReference),
    ];

    /// <summary>Returns how many objects were visited; throws when a forbidden one is found.</summary>
    public static int Walk(object? root, string step)
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var count = 0;
        Visit(root, step + " output");
        return count;

        void Visit(object? value, string path)
        {
            if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || value is decimal)
            {
                return;
            }

            var type = value.GetType();
            if (Forbidden.Any(f => f.IsAssignableFrom(type)))
            {
                Assert.Fail($"{path} holds a {type.FullName}: pipeline outputs must be plain equatable data.");
            }

            if (!type.IsValueType && !visited.Add(value))
            {
                return;
            }

            count++;
            if (value is IEnumerable enumerable and not IDictionary)
            {
                var i = 0;
                foreach (var item in enumerable)
                {
                    Visit(item, $"{path}[{i++}]");
                }
            }

            for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType.IsPointer || field.FieldType.IsByRefLike || field.IsDefined(typeof(FixedBufferAttribute)))
                    {
                        continue;
                    }

                    Visit(field.GetValue(value), path + "." + field.Name);
                }
            }
        }
    }
}
