using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    // How generated code spells a symbol: accessibility, declaration keywords, namespaces, identifiers, default values.
    internal static partial class Parser
    {
        /// <summary>"public" when the type and all its containers are public, "internal" when all are at least internal, else null.</summary>
        private static string? EffectiveAccessibility(INamedTypeSymbol type)
        {
            var result = "public";
            for (var t = type; t is not null; t = t.ContainingType)
            {
                switch (t.DeclaredAccessibility)
                {
                    case Accessibility.Public:
                        break;
                    case Accessibility.Internal or Accessibility.ProtectedOrInternal:
                        result = "internal";
                        break;
                    default:
                        return null;
                }
            }

            return result;
        }

        private static string DeclarationOf(INamedTypeSymbol type)
        {
            var kind = type switch
            {
                { IsRecord: true, IsValueType: true } => "record struct",
                { IsRecord: true } => "record",
                { IsValueType: true } => "struct",
                { TypeKind: TypeKind.Interface } => "interface",
                _ => "class",
            };
            var readOnly = type.IsValueType && type.IsReadOnly ? "readonly " : "";
            return $"{readOnly}partial {kind} {EscapeIdentifier(type.Name)}";
        }

        /// <summary>The dotted namespace name without keyword escapes.</summary>
        private static string NamespaceName(INamespaceSymbol ns)
            => ns.ContainingNamespace is null or { IsGlobalNamespace: true } ? ns.Name : NamespaceName(ns.ContainingNamespace) + "." + ns.Name;

        private static string EscapeIdentifier(string name)
            => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        /// <summary>
        /// The generic accessor of an init-only property whose declaring type is generic or nested in a generic type
        /// (see <see cref="GenericSetterModel"/>), or <see langword="null"/> for a property of a non-generic type.
        /// </summary>
        private static GenericSetterModel? GenericSetterOf(IPropertySymbol property)
        {
            var setter = JobTypeSupport.SetterOf(property)!;
            var closed = setter.ContainingType;
            var open = closed.OriginalDefinition;
            var parameters = new List<ITypeParameterSymbol>();
            var arguments = new List<ITypeSymbol>();
            for (INamedTypeSymbol? o = open, c = closed; o is not null && c is not null; o = o.ContainingType, c = c.ContainingType)
            {
                parameters.InsertRange(0, o.TypeParameters);
                arguments.InsertRange(0, c.TypeArguments);
            }

            if (parameters.Count == 0)
            {
                return null;
            }

            var constraints = new StringBuilder();
            foreach (var parameter in parameters)
            {
                var parts = new List<string>();
                if (parameter.HasReferenceTypeConstraint)
                {
                    parts.Add("class");
                }
                else if (parameter.HasUnmanagedTypeConstraint)
                {
                    parts.Add("unmanaged");
                }
                else if (parameter.HasValueTypeConstraint)
                {
                    parts.Add("struct");
                }
                else if (parameter.HasNotNullConstraint)
                {
                    parts.Add("notnull");
                }

                parts.AddRange(parameter.ConstraintTypes.Select(t => t.ToDisplayString(PlainFormat)));
                if (parameter.HasConstructorConstraint)
                {
                    parts.Add("new()");
                }

                if (parameter.AllowsRefLikeType)
                {
                    parts.Add("allows ref struct");
                }

                if (parts.Count > 0)
                {
                    constraints.Append(" where ").Append(EscapeIdentifier(parameter.Name)).Append(" : ").Append(string.Join(", ", parts));
                }
            }

            return new GenericSetterModel(
                "<" + string.Join(", ", parameters.Select(p => EscapeIdentifier(p.Name))) + ">",
                constraints.ToString(),
                "<" + string.Join(", ", arguments.Select(a => a.ToDisplayString(PlainFormat))) + ">",
                open.ToDisplayString(PlainFormat),
                setter.OriginalDefinition.Parameters[setter.Parameters.Length - 1].Type.ToDisplayString(PlainFormat));
        }

        /// <summary>A C# expression for a parameter's default value.</summary>
        private static string DefaultLiteral(IParameterSymbol parameter)
        {
            var type = parameter.Type;
            var value = parameter.ExplicitDefaultValue;
            if (value is null)
            {
                if (type.IsValueType)
                {
                    return type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T ? "null" : "default";
                }

                return type.NullableAnnotation == NullableAnnotation.NotAnnotated ? "null!" : "null";
            }

            var underlying = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n ? n.TypeArguments[0] : type;
            if (underlying.TypeKind == TypeKind.Enum)
            {
                return $"({underlying.ToDisplayString(PlainFormat)})({SymbolDisplay.FormatPrimitive(value, quoteStrings: false, useHexadecimalNumbers: false)})";
            }

            switch (value)
            {
                case double d when double.IsNaN(d): return "double.NaN";
                case double d when double.IsPositiveInfinity(d): return "double.PositiveInfinity";
                case double d when double.IsNegativeInfinity(d): return "double.NegativeInfinity";
                case float f when float.IsNaN(f): return "float.NaN";
                case float f when float.IsPositiveInfinity(f): return "float.PositiveInfinity";
                case float f when float.IsNegativeInfinity(f): return "float.NegativeInfinity";
                case double d: return d.ToString("R", CultureInfo.InvariantCulture) + "D";
                case float f: return f.ToString("R", CultureInfo.InvariantCulture) + "F";
                case decimal m: return m.ToString(CultureInfo.InvariantCulture) + "M";
                case long l: return l.ToString(CultureInfo.InvariantCulture) + "L";
                case ulong ul: return ul.ToString(CultureInfo.InvariantCulture) + "UL";
                case uint ui: return ui.ToString(CultureInfo.InvariantCulture) + "U";
                case bool b: return b ? "true" : "false";
                default:
                    var literal = SymbolDisplay.FormatPrimitive(value, quoteStrings: true, useHexadecimalNumbers: false);
                    return value is byte or sbyte or short or ushort ? $"({underlying.ToDisplayString(PlainFormat)}){literal}" : literal;
            }
        }
    }
}
