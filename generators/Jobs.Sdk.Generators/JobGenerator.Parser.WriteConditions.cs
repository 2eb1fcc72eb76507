using System;
using System.Linq;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    // When a member is left out of the payload (JsonIgnore's WhenWritingNull / WhenWritingDefault).
    internal static partial class Parser
    {
        /// <summary>
        /// The write condition of <paramref name="member"/>. A member left out of the payload reads back as its value when
        /// missing: its constructor parameter's default, or its property initializer. Left out only when that is the
        /// value left out (null, or the type's default); otherwise it is always written, or the handler would get the
        /// default instead of the value pushed (<c>int Retries = 3</c> pushed as 0 read back as 3, as System.Text.Json does).
        /// What a constructor body assigns cannot be seen here, nor the initializer of a property from a referenced assembly.
        /// </summary>
        private static MemberWriteCondition WriteCondition(JobMemberShape member)
        {
            var condition = member.Ignore switch
            {
                JsonIgnoreKind.Always or JsonIgnoreKind.WhenWriting => MemberWriteCondition.Never,
                JsonIgnoreKind.WhenWritingNull => MemberWriteCondition.WhenNotNull,
                JsonIgnoreKind.WhenWritingDefault => MemberWriteCondition.WhenNotDefault,
                _ => MemberWriteCondition.Always,
            };
            if (condition is not (MemberWriteCondition.WhenNotNull or MemberWriteCondition.WhenNotDefault))
            {
                return condition;
            }

            var readsBackAsLeftOut = member.Parameter is { } parameter
                ? !parameter.HasExplicitDefaultValue || IsLeftOutValue(parameter.ExplicitDefaultValue, member.AllowsNull)
                : !HasValueInitializer(member.Property);
            return readsBackAsLeftOut ? condition : MemberWriteCondition.Always;
        }

        /// <summary>
        /// Whether a constructor default equals the value left out: null (a nullable member's default and what
        /// WhenWritingNull leaves out), or, for a non-nullable value type, its zero (bit for bit: -0.0 and 0.00m are not).
        /// </summary>
        private static bool IsLeftOutValue(object? value, bool allowsNull) => value switch
        {
            null => true,
            _ when allowsNull => false,
            bool b => !b,
            char c => c == '\0',
            double d => BitConverter.DoubleToInt64Bits(d) == 0,
            float f => BitConverter.DoubleToInt64Bits(f) == 0,
            decimal m => decimal.GetBits(m).All(part => part == 0),
            string => false,
            IConvertible number => Convert.ToDecimal(number, System.Globalization.CultureInfo.InvariantCulture) == 0m,
            _ => false,
        };

        /// <summary>Whether the property is declared (in source) with an initializer other than <c>null</c> or <c>default</c>.</summary>
        private static bool HasValueInitializer(IPropertySymbol property)
            => property.DeclaringSyntaxReferences
                .Select(reference => reference.GetSyntax())
                .OfType<PropertyDeclarationSyntax>()
                .Any(declaration => declaration.Initializer is { } initializer && !IsNullOrDefault(initializer.Value));

        private static bool IsNullOrDefault(ExpressionSyntax expression) => expression switch
        {
            PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.SuppressNullableWarningExpression } suppressed => IsNullOrDefault(suppressed.Operand),
            ParenthesizedExpressionSyntax parenthesized => IsNullOrDefault(parenthesized.Expression),
            LiteralExpressionSyntax literal => literal.IsKind(SyntaxKind.NullLiteralExpression) || literal.IsKind(SyntaxKind.DefaultLiteralExpression),
            DefaultExpressionSyntax => true,
            _ => false,
        };
    }
}
