using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Metadata members as one line each (<c>Ns.Type`1::Name``1(!!0,System.String)-&gt;System.Void</c>), read the same way
/// from an assembly's references (what its IL calls) and from another assembly's definitions (what it offers), so a
/// reference binds at run time exactly when its line is among the definitions' lines.
/// </summary>
internal static class MetadataSignatures
{
    /// <summary>The types and members <paramref name="image"/> references in the assembly named <paramref name="target"/>.</summary>
    public static SortedSet<string> ReferencesInto(byte[] image, string target)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(ImmutableArray.Create(image));
        var reader = pe.GetMetadataReader();
        var provider = new Provider();
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var handle in reader.TypeReferences)
        {
            if (IsIn(reader, handle, target))
            {
                lines.Add(provider.GetTypeFromReference(reader, handle, 0));
            }
        }

        foreach (var handle in reader.MemberReferences)
        {
            var member = reader.GetMemberReference(handle);
            var parent = member.Parent.Kind switch
            {
                HandleKind.TypeReference => (TypeReferenceHandle)member.Parent,
                HandleKind.TypeSpecification => GenericDefinition(reader, (TypeSpecificationHandle)member.Parent),
                _ => default,
            };
            if (!parent.IsNil && IsIn(reader, parent, target))
            {
                lines.Add(Line(provider.GetTypeFromReference(reader, parent, 0), reader.GetString(member.Name), member.GetKind() == MemberReferenceKind.Field
                    ? member.DecodeFieldSignature(provider, null)
                    : Method(member.DecodeMethodSignature(provider, null))));
            }
        }

        return lines;
    }

    /// <summary>The public and protected types and members <paramref name="assembly"/> defines.</summary>
    public static HashSet<string> Definitions(string assembly)
    {
        using var stream = File.OpenRead(assembly);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        var reader = pe.GetMetadataReader();
        var provider = new Provider();
        var lines = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in reader.TypeDefinitions)
        {
            var type = reader.GetTypeDefinition(handle);
            if (!IsVisible(reader, type))
            {
                continue;
            }

            var name = provider.GetTypeFromDefinition(reader, handle, 0);
            lines.Add(name);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = reader.GetMethodDefinition(methodHandle);
                if ((method.Attributes & MethodAttributes.MemberAccessMask) is MethodAttributes.Public or MethodAttributes.Family or MethodAttributes.FamORAssem)
                {
                    lines.Add(Line(name, reader.GetString(method.Name), Method(method.DecodeSignature(provider, null))));
                }
            }

            foreach (var fieldHandle in type.GetFields())
            {
                var field = reader.GetFieldDefinition(fieldHandle);
                if ((field.Attributes & FieldAttributes.FieldAccessMask) is FieldAttributes.Public or FieldAttributes.Family or FieldAttributes.FamORAssem)
                {
                    lines.Add(Line(name, reader.GetString(field.Name), field.DecodeSignature(provider, null)));
                }
            }
        }

        return lines;
    }

    private static string Line(string type, string member, string signature) => $"{type}::{member}{signature}";

    private static string Method(MethodSignature<string> signature)
        => (signature.GenericParameterCount > 0 ? "``" + signature.GenericParameterCount : "")
            + "(" + string.Join(",", signature.ParameterTypes) + ")->" + signature.ReturnType;

    private static bool IsVisible(MetadataReader reader, TypeDefinition type)
    {
        var visibility = type.Attributes & TypeAttributes.VisibilityMask;
        if (visibility == TypeAttributes.Public)
        {
            return true;
        }

        return visibility is TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem
            && IsVisible(reader, reader.GetTypeDefinition(type.GetDeclaringType()));
    }

    private static TypeReferenceHandle GenericDefinition(MetadataReader reader, TypeSpecificationHandle handle)
    {
        var blob = reader.GetBlobReader(reader.GetTypeSpecification(handle).Signature);
        if (blob.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance)
        {
            return default;
        }

        blob.ReadSignatureTypeCode(); // class or valuetype
        var definition = blob.ReadTypeHandle();
        return definition.Kind == HandleKind.TypeReference ? (TypeReferenceHandle)definition : default;
    }

    private static bool IsIn(MetadataReader reader, TypeReferenceHandle handle, string target)
    {
        var scope = reader.GetTypeReference(handle).ResolutionScope;
        while (scope.Kind == HandleKind.TypeReference)
        {
            scope = reader.GetTypeReference((TypeReferenceHandle)scope).ResolutionScope;
        }

        return scope.Kind == HandleKind.AssemblyReference
            && reader.GetString(reader.GetAssemblyReference((AssemblyReferenceHandle)scope).Name) == target;
    }

    /// <summary>Type names without assembly: a type reference and the definition it binds to read the same.</summary>
    private sealed class Provider : ISignatureTypeProvider<string, object?>
    {
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[" + new string(',', shape.Rank - 1) + "]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetFunctionPointerType(MethodSignature<string> signature) => "method " + Method(signature);
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType + "<" + string.Join(",", typeArguments) + ">";
        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType + (isRequired ? " modreq(" : " modopt(") + modifier + ")";
        public string GetPinnedType(string elementType) => elementType + " pinned";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => "System." + typeCode switch
        {
            PrimitiveTypeCode.IntPtr => "IntPtr",
            PrimitiveTypeCode.UIntPtr => "UIntPtr",
            PrimitiveTypeCode.TypedReference => "TypedReference",
            _ => typeCode.ToString(),
        };
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind)
            => reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var type = reader.GetTypeDefinition(handle);
            var name = reader.GetString(type.Name);
            return type.GetDeclaringType() is { IsNil: false } declaring
                ? GetTypeFromDefinition(reader, declaring, rawTypeKind) + "/" + name
                : Qualify(reader.GetString(type.Namespace), name);
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var type = reader.GetTypeReference(handle);
            var name = reader.GetString(type.Name);
            return type.ResolutionScope.Kind == HandleKind.TypeReference
                ? GetTypeFromReference(reader, (TypeReferenceHandle)type.ResolutionScope, rawTypeKind) + "/" + name
                : Qualify(reader.GetString(type.Namespace), name);
        }

        private static string Qualify(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;
    }
}
