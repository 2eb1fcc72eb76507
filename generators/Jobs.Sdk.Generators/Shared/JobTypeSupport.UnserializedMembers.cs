using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// Members holding data the generated serializer does not carry (warned about by the analyzers).
internal static partial class JobTypeSupport
{
    /// <summary>
    /// Members of the job type and of every object type it contains that hold data the generated serializer does not
    /// carry: public properties with a non-public setter or getter, get-only auto-properties no constructor parameter sets, and
    /// public instance fields (System.Text.Json needs <c>[JsonInclude]</c> or <c>IncludeFields</c> for those; this
    /// serializer does not support them). Members marked <c>[JsonIgnore]</c> are skipped.
    /// </summary>
    public static List<(ISymbol Member, string Reason)> FindUnserializedMembers(INamedTypeSymbol jobType, bool hasJsonContext)
    {
        var result = new List<(ISymbol, string)>();
        var visited = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        Visit(jobType);
        return result;

        void Visit(INamedTypeSymbol type)
        {
            if (!visited.Add(type) || GetObjectShape(type, out _) is not { } shape)
            {
                return;
            }

            foreach (var property in shape.Unbound)
            {
                if (GetIgnoreKind(property) == JsonIgnoreKind.Always)
                {
                    continue;
                }

                if (SetterOf(property) is not null)
                {
                    result.Add((property, "its setter is not public, so it is not read back from the payload"));
                }
                else if (IsAutoProperty(property))
                {
                    result.Add((property, "it is get-only and no constructor parameter sets it, so it is not serialized"));
                }
            }

            foreach (var (hidden, by) in FindHiddenByNew(type))
            {
                result.Add((hidden, $"it is hidden by '{by.ContainingType.Name}.{by.Name}' (declared with new), so it is not serialized"));
            }

            // A public property whose getter is not public ({ private get; set; }): the writer cannot read it, so the
            // value the pusher set never reaches the payload (it is neither carried nor in Unbound, which needs a public getter).
            var hiddenGetters = new HashSet<string>(StringComparer.Ordinal);
            for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
            {
                foreach (var member in t.GetMembers())
                {
                    if (member is IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public, GetMethod: { } getter } property
                        && getter.DeclaredAccessibility != Accessibility.Public && property.SetMethod is { DeclaredAccessibility: Accessibility.Public }
                        && GetIgnoreKind(property) != JsonIgnoreKind.Always && hiddenGetters.Add(property.Name))
                    {
                        result.Add((property, "its getter is not public, so it is not written to the payload"));
                    }
                }
            }

            for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
            {
                foreach (var member in t.GetMembers())
                {
                    if (member is IFieldSymbol { IsStatic: false, IsConst: false, IsImplicitlyDeclared: false, DeclaredAccessibility: Accessibility.Public } field
                        && GetIgnoreKind(field) != JsonIgnoreKind.Always)
                    {
                        result.Add((field, "public fields are not serialized (make it a property with a public setter or a constructor parameter)"));
                    }
                }
            }

            foreach (var (member, kind) in FindHiddenState(shape))
            {
                var accessibility = member.DeclaredAccessibility switch
                {
                    Accessibility.Private => "a private",
                    Accessibility.Internal => "an internal",
                    Accessibility.Protected => "a protected",
                    Accessibility.ProtectedOrInternal => "a protected internal",
                    _ => "a private protected",
                };
                result.Add((member, $"it is {accessibility} {kind}, and the payload carries only constructor parameters and public settable properties"));
            }

            foreach (var member in shape.Members)
            {
                VisitType(member.Type);
            }
        }

        void VisitType(ITypeSymbol type)
        {
            var classified = Classify(type, hasJsonContext, jobType);
            if (classified.Kind == JsonTypeKind.Object)
            {
                Visit((INamedTypeSymbol)type);
            }
            else if (classified.Element is not null)
            {
                VisitType(classified.Element);
            }
        }
    }

    /// <summary>
    /// Non-public instance state of an object type declared in source (the type and its base types): fields and
    /// auto-properties the generated serializer never writes, so a worker gets what the constructor leaves in them.
    /// Not state: static and const members, compiler-generated fields (backing fields of auto-properties and
    /// field-like events, captured primary-constructor parameters), computed properties, the record's EqualityContract,
    /// fields that back a carried property (used in its accessors), members marked <c>[JsonIgnore]</c>, and read-only
    /// fields and get-only auto-properties whose initializer alone sets them (recomputed from the carried members on read).
    /// </summary>
    private static IEnumerable<(ISymbol Member, string Kind)> FindHiddenState(JobObjectShape shape)
    {
        var accessorFields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var carried in shape.Members.Select(m => m.Property).Concat(shape.Unbound.Where(p => SetterOf(p) is not null)))
        {
            foreach (var accessor in new[] { carried.GetMethod, carried.SetMethod })
            {
                foreach (var reference in accessor?.DeclaringSyntaxReferences ?? ImmutableArray<SyntaxReference>.Empty)
                {
                    foreach (var name in reference.GetSyntax().DescendantNodesAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax>())
                    {
                        accessorFields.Add(name.Identifier.ValueText);
                    }
                }
            }

            // An expression-bodied property (public int X => _x;) has no accessor syntax of its own.
            foreach (var reference in carried.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax() is Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { ExpressionBody: { } body })
                {
                    foreach (var name in body.DescendantNodesAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax>())
                    {
                        accessorFields.Add(name.Identifier.ValueText);
                    }
                }
            }
        }

        var known = new HashSet<string>(shape.Members.Select(m => m.Name).Concat(shape.Unbound.Select(p => p.Name)), StringComparer.Ordinal);
        for (var t = shape.Type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            if (t.DeclaringSyntaxReferences.Length == 0)
            {
                continue;
            }

            foreach (var member in t.GetMembers())
            {
                if (member.IsStatic || member.IsImplicitlyDeclared || member.DeclaredAccessibility == Accessibility.Public
                    || GetIgnoreKind(member) == JsonIgnoreKind.Always)
                {
                    continue;
                }

                if (member is IFieldSymbol { IsConst: false, AssociatedSymbol: null } field)
                {
                    if (!accessorFields.Contains(field.Name) && !(field.IsReadOnly && IsSetOnlyByInitializer(field, t)))
                    {
                        yield return (field, "field");
                    }
                }
                else if (member is IPropertySymbol { IsIndexer: false } property && property.Name != "EqualityContract" && !known.Contains(property.Name)
                    && IsAutoProperty(property) && !(property.SetMethod is null && IsSetOnlyByInitializer(property, t)))
                {
                    yield return (property, "auto-property");
                }
            }
        }
    }

    /// <summary>
    /// Public auto-properties of base types hidden by a public property of the same name declared with <c>new</c> in a
    /// derived type: the serializer carries only the most derived one, so what a pusher set through the base (a cast, a
    /// base-typed method) is lost. Not reported: a hidden property the hiding one reads or writes (<c>base.Name</c>), an
    /// override (not hidden), a computed one, and one marked <c>[JsonIgnore]</c>.
    /// </summary>
    private static IEnumerable<(IPropertySymbol Hidden, IPropertySymbol By)> FindHiddenByNew(INamedTypeSymbol type)
    {
        var visible = new Dictionary<string, IPropertySymbol>(StringComparer.Ordinal);
        for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            foreach (var member in t.GetMembers())
            {
                if (member is not IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public } property
                    || property.Name == "EqualityContract")
                {
                    continue;
                }

                if (!visible.TryGetValue(property.Name, out var by))
                {
                    visible.Add(property.Name, property);
                }
                else if (property.GetMethod is { DeclaredAccessibility: Accessibility.Public } && !Overrides(by, property)
                    && GetIgnoreKind(property) != JsonIgnoreKind.Always && IsAutoProperty(property) && !ReadsBase(by, property.Name))
                {
                    yield return (property, by);
                }
            }
        }

        static bool Overrides(IPropertySymbol derived, IPropertySymbol candidate)
        {
            for (var p = derived.OverriddenProperty; p is not null; p = p.OverriddenProperty)
            {
                if (SymbolEqualityComparer.Default.Equals(p, candidate))
                {
                    return true;
                }
            }

            return false;
        }

        static bool ReadsBase(IPropertySymbol property, string name)
            => property.DeclaringSyntaxReferences.Any(r => r.GetSyntax().DescendantNodes()
                .OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax>()
                .Any(a => a.Expression is Microsoft.CodeAnalysis.CSharp.Syntax.BaseExpressionSyntax && a.Name.Identifier.ValueText == name));
    }

    /// <summary>Whether a read-only field or get-only auto-property has an initializer and no constructor of its type assigns it.</summary>
    private static bool IsSetOnlyByInitializer(ISymbol member, INamedTypeSymbol type)
    {
        var hasInitializer = false;
        foreach (var reference in member.DeclaringSyntaxReferences)
        {
            hasInitializer |= reference.GetSyntax() switch
            {
                Microsoft.CodeAnalysis.CSharp.Syntax.VariableDeclaratorSyntax { Initializer: not null } => true,
                Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { Initializer: not null } => true,
                _ => false,
            };
        }

        if (!hasInitializer)
        {
            return false;
        }

        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            foreach (var constructor in reference.GetSyntax().ChildNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ConstructorDeclarationSyntax>())
            {
                foreach (var assignment in constructor.DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.AssignmentExpressionSyntax>())
                {
                    var target = assignment.Left is Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax access ? access.Name : assignment.Left;
                    if (target is Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax name && name.Identifier.ValueText == member.Name)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    private static bool IsAutoProperty(IPropertySymbol property)
    {
        foreach (var reference in property.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { ExpressionBody: null, AccessorList: { } accessors }
                && accessors.Accessors.All(a => a.Body is null && a.ExpressionBody is null))
            {
                return true;
            }
        }

        return false;
    }
}
