using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Analyzers;

/// <summary>The Jobs.Sdk types the analyzers look for, resolved once per compilation.</summary>
internal sealed class KnownSymbols
{
    private KnownSymbols(Compilation compilation, INamedTypeSymbol jobAttribute)
    {
        JobAttribute = jobAttribute;
        JobInterface = compilation.GetTypeByMetadataName(KnownNames.JobInterface);
        JobHandlerInterface = compilation.GetTypeByMetadataName(KnownNames.JobHandlerInterface);
        JobQueue = compilation.GetTypeByMetadataName(KnownNames.JobQueue);
        JobsBuilder = compilation.GetTypeByMetadataName(KnownNames.JobsBuilder);
        JobPushMethodAttribute = compilation.GetTypeByMetadataName(KnownNames.JobPushMethodAttribute);
        JobRegistrationMethodAttribute = compilation.GetTypeByMetadataName(KnownNames.JobRegistrationMethodAttribute);
        JobRegistrationCallersAttribute = compilation.GetTypeByMetadataName(KnownNames.JobRegistrationCallersAttribute);
        JobRegistrationReachAttribute = compilation.GetTypeByMetadataName(KnownNames.JobRegistrationReachAttribute);
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
    }

    public INamedTypeSymbol JobAttribute { get; }
    public INamedTypeSymbol? JobInterface { get; }
    public INamedTypeSymbol? JobHandlerInterface { get; }
    public INamedTypeSymbol? JobQueue { get; }
    public INamedTypeSymbol? JobsBuilder { get; }
    public INamedTypeSymbol? JobPushMethodAttribute { get; }
    public INamedTypeSymbol? JobRegistrationMethodAttribute { get; }
    public INamedTypeSymbol? JobRegistrationCallersAttribute { get; }
    public INamedTypeSymbol? JobRegistrationReachAttribute { get; }
    public INamedTypeSymbol? CancellationToken { get; }

    /// <summary>Returns <see langword="null"/> when the compilation does not reference Jobs.Sdk (the analyzers then do nothing).</summary>
    public static KnownSymbols? TryCreate(Compilation compilation)
        => compilation.GetTypeByMetadataName(KnownNames.JobAttribute) is { } attribute ? new KnownSymbols(compilation, attribute) : null;

    /// <summary>The type's <c>[Job]</c> attribute, if any.</summary>
    public AttributeData? GetJobAttribute(ITypeSymbol type)
    {
        foreach (var attribute in type.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, JobAttribute))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>The job name of a <c>[Job]</c> type, or <see langword="null"/>.</summary>
    public string? GetJobName(ITypeSymbol type)
        => GetJobAttribute(type) is { ConstructorArguments: { Length: 1 } arguments } ? arguments[0].Value as string : null;

    /// <summary>Whether <paramref name="type"/> is a job: marked <c>[Job]</c> or implementing <c>IJob&lt;itself&gt;</c>.</summary>
    public bool IsJobType(ITypeSymbol type)
    {
        if (type.TypeKind == TypeKind.TypeParameter || type.TypeKind == TypeKind.Error)
        {
            return false;
        }

        if (GetJobAttribute(type) is not null)
        {
            return true;
        }

        if (JobInterface is null)
        {
            return false;
        }

        foreach (var @interface in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(@interface.OriginalDefinition, JobInterface)
                && SymbolEqualityComparer.Default.Equals(@interface.TypeArguments[0], type))
            {
                return true;
            }
        }

        return false;
    }
}
