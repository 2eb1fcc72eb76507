using System.Threading;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
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
        /// The documentation comment id of the method or constructor whose body (its lambdas and local functions included)
        /// names the generated <c>AddGeneratedJobs()</c>, when code outside this assembly can call it (JOBS025 then takes a
        /// call of it as registering this assembly's handlers); <see langword="null"/> otherwise.
        /// </summary>
        public static string? ParseRegistrationCaller(GeneratorSyntaxContext context, CancellationToken cancellationToken)
        {
            // The generated method is not in the compilation the generator sees, so its name does not bind; a name that binds
            // to anything but a generated registration (a method of the user's own named so, a local) is not a call of it.
            if (context.SemanticModel.GetSymbolInfo(context.Node, cancellationToken).Symbol is { } bound
                && !(bound is IMethodSymbol { IsStatic: true, Name: KnownNames.AddGeneratedJobsMethodName } method
                    && method.ContainingNamespace?.ToDisplayString() == KnownNames.RegistrationNamespace))
            {
                return null;
            }

            foreach (var ancestor in context.Node.Ancestors())
            {
                if (ancestor is BaseTypeDeclarationSyntax)
                {
                    return null; // a field initializer, a property: nothing a caller names.
                }

                if (ancestor is not (MethodDeclarationSyntax or ConstructorDeclarationSyntax))
                {
                    continue; // lambdas and local functions run as part of the member around them.
                }

                return context.SemanticModel.GetDeclaredSymbol(ancestor, cancellationToken) is IMethodSymbol
                {
                    MethodKind: MethodKind.Ordinary or MethodKind.Constructor,
                } caller && IsCallableOutside(caller)
                    ? RegistrationCallerIds.Of(caller)
                    : null;
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
