using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Jobs.Sdk.Analyzers;

/// <summary>
/// Checks job handlers: <c>IJobHandler&lt;T&gt;</c> for a <c>T</c> that is not a job (JOBS009), and calls inside
/// <c>HandleAsync</c> that could take the handler's <c>CancellationToken</c> but do not (JOBS011).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class JobHandlerAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.HandlerForNonJob,
        Descriptors.HandlerIgnoresCancellation);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (KnownSymbols.TryCreate(start.Compilation) is not { JobHandlerInterface: { } handlerInterface } known)
            {
                return;
            }

            start.RegisterSymbolAction(symbolContext => AnalyzeHandlerType(symbolContext, known, handlerInterface), SymbolKind.NamedType);
            if (known.CancellationToken is { } cancellationToken)
            {
                start.RegisterOperationBlockStartAction(block => AnalyzeHandleAsync(block, handlerInterface, cancellationToken));
            }
        });
    }

    private static void AnalyzeHandlerType(SymbolAnalysisContext context, KnownSymbols known, INamedTypeSymbol handlerInterface)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        foreach (var @interface in type.Interfaces)
        {
            if (!SymbolEqualityComparer.Default.Equals(@interface.OriginalDefinition, handlerInterface))
            {
                continue;
            }

            var jobType = @interface.TypeArguments[0];
            if (jobType.TypeKind is TypeKind.TypeParameter or TypeKind.Error || known.IsJobType(jobType))
            {
                continue;
            }

            context.ReportDiagnostic(Diagnostic.Create(Descriptors.HandlerForNonJob, BaseTypeLocation(type, @interface, context.CancellationToken),
                type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat),
                jobType.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)));
        }
    }

    private static Location BaseTypeLocation(INamedTypeSymbol type, INamedTypeSymbol @interface, System.Threading.CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax { BaseList: { } baseList })
            {
                continue;
            }

            foreach (var baseType in baseList.Types)
            {
                // Syntactic match on the name keeps this free of semantic-model work.
                var name = baseType.Type is QualifiedNameSyntax qualified ? qualified.Right : baseType.Type;
                if (name is GenericNameSyntax generic && generic.Identifier.ValueText == @interface.Name)
                {
                    return baseType.GetLocation();
                }
            }
        }

        return type.Locations.Length > 0 ? type.Locations[0] : Location.None;
    }

    private static void AnalyzeHandleAsync(OperationBlockStartAnalysisContext context, INamedTypeSymbol handlerInterface, INamedTypeSymbol cancellationTokenType)
    {
        if (context.OwningSymbol is not IMethodSymbol { Name: "HandleAsync", Parameters.Length: 3 } method
            || !SymbolEqualityComparer.Default.Equals(method.Parameters[2].Type, cancellationTokenType)
            || !ImplementsHandleAsync(method, handlerInterface))
        {
            return;
        }

        var token = method.Parameters[2];
        context.RegisterOperationAction(operationContext =>
        {
            var invocation = (IInvocationOperation)operationContext.Operation;
            if (PassesCancellationToken(invocation, cancellationTokenType))
            {
                return;
            }

            if (HasOptionalTokenParameter(invocation, cancellationTokenType) || HasTokenOverload(invocation.TargetMethod, cancellationTokenType, operationContext.Compilation, method.ContainingType))
            {
                operationContext.ReportDiagnostic(Diagnostic.Create(Descriptors.HandlerIgnoresCancellation, invocation.Syntax.GetLocation(),
                    token.Name, invocation.TargetMethod.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)));
            }
        }, OperationKind.Invocation);
    }

    private static bool ImplementsHandleAsync(IMethodSymbol method, INamedTypeSymbol handlerInterface)
    {
        foreach (var @interface in method.ContainingType.AllInterfaces)
        {
            if (!SymbolEqualityComparer.Default.Equals(@interface.OriginalDefinition, handlerInterface))
            {
                continue;
            }

            foreach (var member in @interface.GetMembers("HandleAsync"))
            {
                if (SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(member), method))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Any argument given explicitly (not defaulted) whose parameter is a CancellationToken.</summary>
    private static bool PassesCancellationToken(IInvocationOperation invocation, INamedTypeSymbol cancellationTokenType)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind != ArgumentKind.DefaultValue
                && argument.Parameter is { } parameter
                && SymbolEqualityComparer.Default.Equals(parameter.Type, cancellationTokenType))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasOptionalTokenParameter(IInvocationOperation invocation, INamedTypeSymbol cancellationTokenType)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.DefaultValue
                && argument.Parameter is { } parameter
                && SymbolEqualityComparer.Default.Equals(parameter.Type, cancellationTokenType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An overload with the same parameters plus a trailing CancellationToken (the shape CA2016 looks for).</summary>
    private static bool HasTokenOverload(IMethodSymbol target, INamedTypeSymbol cancellationTokenType, Compilation compilation, INamedTypeSymbol within)
    {
        var method = (target.ReducedFrom ?? target).OriginalDefinition;
        foreach (var member in method.ContainingType.GetMembers(method.Name))
        {
            if (member is not IMethodSymbol candidate
                || candidate.Parameters.Length != method.Parameters.Length + 1
                || candidate.IsStatic != method.IsStatic
                || candidate.TypeParameters.Length != method.TypeParameters.Length
                || !SymbolEqualityComparer.Default.Equals(candidate.Parameters[candidate.Parameters.Length - 1].Type, cancellationTokenType))
            {
                continue;
            }

            var same = true;
            for (var i = 0; i < method.Parameters.Length && same; i++)
            {
                same = method.Parameters[i].Type.TypeKind == TypeKind.TypeParameter
                    ? candidate.Parameters[i].Type.TypeKind == TypeKind.TypeParameter
                    : SymbolEqualityComparer.Default.Equals(method.Parameters[i].Type, candidate.Parameters[i].Type);
            }

            if (same && compilation.IsSymbolAccessibleWithin(candidate, within))
            {
                return true;
            }
        }

        return false;
    }
}
