using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// One round of <see cref="CloseRegistrationCallers"/>: the members reached last round, by the name a call spells, and
        /// which nodes may call one of them by their syntax alone (the name, the number of arguments, a static member's type
        /// named before it), so a library calling an unrelated <c>Helpers.Register(x)</c> thousands of times binds none of
        /// those calls when its wrapper is <c>Register(this IServiceCollection services)</c>.
        /// </summary>
        private sealed class CallTargets(HashSet<string> aliases)
        {
            private readonly Dictionary<string, List<IMethodSymbol>> _byName = new(StringComparer.Ordinal);

            /// <summary>The names calls of the members spell (<c>.ctor</c> for a constructor chained or created without its type's name).</summary>
            public IEnumerable<string> Names => _byName.Keys;

            public void Add(string name, IMethodSymbol member)
            {
                if (!_byName.TryGetValue(name, out var members))
                {
                    _byName.Add(name, members = []);
                }

                members.Add(member);
            }

            /// <summary>Whether the node may call one of the members: to be bound (<see cref="Called"/>) to know.</summary>
            public bool MayCall(SyntaxNode node)
            {
                switch (node)
                {
                    case SimpleNameSyntax name:
                        return _byName.TryGetValue(name.Identifier.ValueText, out var named) && !InNameOf(name)
                            && named.Any(member => member.MethodKind != MethodKind.Constructor && MayCallByName(name, member));
                    case ObjectCreationExpressionSyntax creation:
                        var typeName = RightmostName(creation.Type);
                        return Constructors(typeName is null || aliases.Contains(typeName) ? ConstructorCallName : typeName)
                            .Any(c => Fits(c, creation.ArgumentList?.Arguments.Count ?? 0, skipFirst: false));
                    case ImplicitObjectCreationExpressionSyntax implicitCreation:
                        return Constructors(ConstructorCallName).Any(c => Fits(c, implicitCreation.ArgumentList.Arguments.Count, skipFirst: false));
                    case ConstructorInitializerSyntax initializer:
                        return Constructors(ConstructorCallName).Any(c => Fits(c, initializer.ArgumentList.Arguments.Count, skipFirst: false));
                    default:
                        return false;
                }
            }

            private IEnumerable<IMethodSymbol> Constructors(string name)
                => _byName.TryGetValue(name, out var members) ? members.Where(m => m.MethodKind == MethodKind.Constructor) : [];

            /// <summary>
            /// A method group may be any of them. A call <c>M(args)</c> or <c>e.M(args)</c> needs as many arguments as the
            /// member takes (one fewer for an extension method called on <c>e</c>); a static member is called on its type's
            /// name (or an alias, or without a receiver), so <c>Other.M(...)</c> calls it only as an extension.
            /// </summary>
            private bool MayCallByName(SimpleNameSyntax name, IMethodSymbol member)
            {
                ExpressionSyntax? receiver = null;
                ExpressionSyntax callee = name;
                if (name.Parent is MemberAccessExpressionSyntax access && access.Name == name)
                {
                    receiver = access.Expression;
                    callee = access;
                }
                else if (name.Parent is MemberBindingExpressionSyntax binding)
                {
                    receiver = binding; // a?.M(): the receiver is an expression, not a type.
                    callee = binding;
                }

                var onItsType = receiver is null || !member.IsStatic || NamesType(receiver, member.ContainingType);
                if (member.MethodKind == MethodKind.PropertyGet)
                {
                    return onItsType;
                }

                if (callee.Parent is not InvocationExpressionSyntax invocation || invocation.Expression != callee)
                {
                    return true; // a method group.
                }

                var arguments = invocation.ArgumentList.Arguments.Count;
                return (onItsType && Fits(member, arguments, skipFirst: false))
                    || (member.IsExtensionMethod && receiver is not null && Fits(member, arguments, skipFirst: true));
            }

            private bool NamesType(ExpressionSyntax receiver, INamedTypeSymbol type)
            {
                var name = receiver switch
                {
                    MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
                    TypeSyntax typeName => RightmostName(typeName),
                    _ => null,
                };
                return name is not null && (name == type.Name || aliases.Contains(name));
            }

            /// <summary>Whether a call with <paramref name="arguments"/> arguments can bind to the member (its first parameter skipped for an extension's receiver).</summary>
            private static bool Fits(IMethodSymbol member, int arguments, bool skipFirst)
            {
                var parameters = member.Parameters;
                var start = skipFirst ? 1 : 0;
                if (parameters.Length < start)
                {
                    return false;
                }

                var required = 0;
                for (var i = start; i < parameters.Length; i++)
                {
                    if (!parameters[i].IsOptional && !parameters[i].IsParams)
                    {
                        required++;
                    }
                }

                var takesParams = parameters.Length > start && parameters[parameters.Length - 1].IsParams;
                return arguments >= required && (takesParams || arguments <= parameters.Length - start);
            }

            private static string? RightmostName(TypeSyntax type) => type switch
            {
                SimpleNameSyntax simple => simple.Identifier.ValueText,
                QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
                AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
                _ => null,
            };

            private static bool InNameOf(SyntaxNode node)
            {
                foreach (var ancestor in node.Ancestors())
                {
                    if (ancestor is InvocationExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.ValueText: "nameof" } })
                    {
                        return true;
                    }

                    if (ancestor is StatementSyntax or MemberDeclarationSyntax)
                    {
                        return false;
                    }
                }

                return false;
            }
        }
    }
}
