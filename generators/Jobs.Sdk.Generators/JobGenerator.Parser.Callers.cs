using System.Threading;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Parser
    {
        /// <summary>A name <c>AddGeneratedJobs</c>: a call of the assembly's generated registration, or its method group.</summary>
        public static bool IsRegistrationCallCandidate(SyntaxNode node, CancellationToken cancellationToken)
            => node is IdentifierNameSyntax { Identifier.ValueText: KnownNames.AddGeneratedJobsMethodName };

        /// <summary>
        /// The documentation comment id of the member (method, constructor, property getter) whose body, its lambdas and local
        /// functions included, names the generated <c>AddGeneratedJobs()</c>, whatever its accessibility: the start of the
        /// closure of callers (<see cref="CloseRegistrationCallers"/>), which lists those callable outside this assembly;
        /// <see langword="null"/> when the name is something else or is outside such a member.
        /// </summary>
        public static string? ParseRegistrationCaller(GeneratorSyntaxContext context, CancellationToken cancellationToken)
        {
            // The generated method is not in the compilation the generator sees, so its name does not bind; a name that binds
            // to anything but a generated registration (a method of the user's own named so, a local) is not a call of it.
            // In a friend of a library (InternalsVisibleTo) it binds to that library's, called as an extension (a reduced
            // method, not static): in the build that call runs this assembly's own, which wins overload resolution.
            if (context.SemanticModel.GetSymbolInfo(context.Node, cancellationToken).Symbol is { } bound
                && !(((bound as IMethodSymbol)?.ReducedFrom ?? bound) is IMethodSymbol { IsStatic: true, Name: KnownNames.AddGeneratedJobsMethodName } method
                    && method.ContainingNamespace?.ToDisplayString() == KnownNames.RegistrationNamespace))
            {
                return null;
            }

            return ContainingCaller(context.Node, context.SemanticModel, cancellationToken) is { } caller
                ? RegistrationCallerIds.Of(caller)
                : null;
        }

        /// <summary>
        /// The member a call in <paramref name="node"/> runs as part of: a method or constructor (lambdas and local functions
        /// run as part of the member around them) or the getter of a property (not an indexer); <see langword="null"/> for
        /// anything a caller does not name (a field or property initializer, a setter, an operator, a static constructor).
        /// </summary>
        private static IMethodSymbol? ContainingCaller(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken)
        {
            foreach (var ancestor in node.Ancestors())
            {
                switch (ancestor)
                {
                    case MethodDeclarationSyntax or ConstructorDeclarationSyntax:
                        return model.GetDeclaredSymbol(ancestor, cancellationToken) is IMethodSymbol
                        {
                            MethodKind: MethodKind.Ordinary or MethodKind.Constructor,
                        } member
                            ? member
                            : null;
                    case AccessorDeclarationSyntax accessor:
                        return accessor.IsKind(SyntaxKind.GetAccessorDeclaration)
                            && model.GetDeclaredSymbol(accessor, cancellationToken) is IMethodSymbol
                            {
                                MethodKind: MethodKind.PropertyGet,
                                AssociatedSymbol: IPropertySymbol { IsIndexer: false },
                            } getter
                            ? getter
                            : null;
                    case PropertyDeclarationSyntax property:
                        return property.ExpressionBody is { } body && body.Span.Contains(node.Span)
                            && model.GetDeclaredSymbol(property, cancellationToken) is { GetMethod: { } expressionGetter }
                            ? expressionGetter
                            : null;
                    case MemberDeclarationSyntax:
                        return null; // a type (field initializer), an indexer, an operator, an event: nothing a caller names.
                }
            }

            return null;
        }

        /// <summary>Whether another assembly can call the member: it and its containing types are not private (internal ones serve friends).</summary>
        private static bool IsCallableOutside(ISymbol symbol)
        {
            for (ISymbol? current = symbol; current is not null and not INamespaceSymbol; current = current.ContainingType)
            {
                if (current.DeclaredAccessibility is Accessibility.Private or Accessibility.NotApplicable)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
