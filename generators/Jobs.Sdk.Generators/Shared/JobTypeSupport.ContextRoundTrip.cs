using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// Members the job's JsonSerializerContext serializes, of types System.Text.Json writes in a form it cannot read back as
// the pushed value (JOBS026): the generator emits nothing for such a job, as for JOBS010.
internal static partial class JobTypeSupport
{
    private const string JsonSourceGenerationOptionsAttribute = "System.Text.Json.Serialization.JsonSourceGenerationOptionsAttribute";
    private const string JsonConverterOfT = "System.Text.Json.Serialization.JsonConverter<T>";

    /// <summary>
    /// Why System.Text.Json, serializing <paramref name="type"/> for the job's context, would not give the handler the
    /// pushed value, or <see langword="null"/>. Looks at the type and, for a framework generic or an array, at its type
    /// arguments (<c>Dictionary&lt;int, object&gt;</c>); the members of the user's own types inside are System.Text.Json's
    /// business and are not walked.
    /// </summary>
    private static string? ContextRoundTripProblem(ITypeSymbol type, JsonContextOptions context)
    {
        if (context.ConvertsAnything || context.Converted.Any(c => SymbolEqualityComparer.Default.Equals(c, type)))
        {
            return null;
        }

        if (type.SpecialType == SpecialType.System_Object || type.TypeKind == TypeKind.Dynamic)
        {
            return "System.Text.Json writes an 'object' as the value's runtime type and reads it back as a JsonElement, so the handler would not get the pushed value; "
                + "declare the member as the value's type (or as JsonElement to carry any JSON)";
        }

        if (type is IArrayTypeSymbol array)
        {
            return ContextRoundTripProblem(array.ElementType, context);
        }

        if (type is not INamedTypeSymbol named)
        {
            return null;
        }

        if (named.IsTupleType && !context.IncludesFields)
        {
            return $"System.Text.Json writes a tuple's elements (fields) only with IncludeFields, so '{named.ToDisplayString()}' would be written as {{}} and read back empty; "
                + "use a record, or set IncludeFields = true in the context's [JsonSourceGenerationOptions]";
        }

        if (named.Name == "BigInteger" && IsInNamespace(named, "System", "Numerics"))
        {
            return $"System.Text.Json has no converter for '{named.ToDisplayString()}': it writes its get-only properties and reads back 0; "
                + "carry it as a string (ToString/Parse) or name a converter for it in the context's [JsonSourceGenerationOptions(Converters = ...)]";
        }

        var isAbstract = named.TypeKind == TypeKind.Interface || (named.TypeKind == TypeKind.Class && named.IsAbstract);
        if (isAbstract && !IsFrameworkType(named) && named.SpecialType != SpecialType.System_Collections_IEnumerable
            && !named.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable)
            && !HasAttribute(named, KnownNames.JsonPolymorphicAttribute) && !HasAttribute(named, KnownNames.JsonDerivedTypeAttribute)
            && !HasAttribute(named, KnownNames.JsonConverterAttribute))
        {
            var what = named.TypeKind == TypeKind.Interface ? "interface" : "abstract class";
            var display = named.ToDisplayString();
            return $"System.Text.Json writes only the properties of the declared {what} '{display}' and cannot create one when reading, so every such job would fail to decode on the worker; "
                + $"declare a concrete type, or list the implementations with [JsonPolymorphic] and [JsonDerivedType] on '{display}'";
        }

        if (IsFrameworkType(named))
        {
            foreach (var argument in named.TypeArguments)
            {
                if (ContextRoundTripProblem(argument, context) is { } problem)
                {
                    return problem;
                }
            }
        }

        return null;
    }

    /// <summary>What the job's context's <c>[JsonSourceGenerationOptions]</c> change in how System.Text.Json writes a value.</summary>
    internal sealed class JsonContextOptions
    {
        public static readonly JsonContextOptions None = new([], false, false);

        private JsonContextOptions(List<ITypeSymbol> converted, bool convertsAnything, bool includesFields)
        {
            Converted = converted;
            ConvertsAnything = convertsAnything;
            IncludesFields = includesFields;
        }

        /// <summary>The <c>T</c> of every <c>JsonConverter&lt;T&gt;</c> named in <c>Converters</c>.</summary>
        public List<ITypeSymbol> Converted { get; }

        /// <summary>A converter whose target type is not known here (a <c>JsonConverterFactory</c>) is named.</summary>
        public bool ConvertsAnything { get; }

        /// <summary><c>IncludeFields = true</c>.</summary>
        public bool IncludesFields { get; }

        /// <summary>The options of <paramref name="context"/> (the type named by <c>[Job(JsonContext = ...)]</c>).</summary>
        public static JsonContextOptions Of(ITypeSymbol? context)
        {
            if (context is null)
            {
                return None;
            }

            var converted = new List<ITypeSymbol>();
            var convertsAnything = false;
            var includesFields = false;
            foreach (var attribute in context.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() != JsonSourceGenerationOptionsAttribute)
                {
                    continue;
                }

                foreach (var named in attribute.NamedArguments)
                {
                    includesFields |= named.Key == "IncludeFields" && named.Value.Value is true;
                    if (named.Key != "Converters" || named.Value.Kind != TypedConstantKind.Array || named.Value.IsNull)
                    {
                        continue;
                    }

                    foreach (var converter in named.Value.Values)
                    {
                        if (ConvertedType(converter.Value as INamedTypeSymbol) is { } target)
                        {
                            converted.Add(target);
                        }
                        else
                        {
                            convertsAnything = true;
                        }
                    }
                }
            }

            return converted.Count == 0 && !convertsAnything && !includesFields ? None : new JsonContextOptions(converted, convertsAnything, includesFields);
        }

        private static ITypeSymbol? ConvertedType(INamedTypeSymbol? converter)
        {
            for (var t = converter; t is not null; t = t.BaseType)
            {
                if (t.IsGenericType && t.OriginalDefinition.ToDisplayString() == JsonConverterOfT)
                {
                    return t.TypeArguments[0];
                }
            }

            return null;
        }
    }
}
