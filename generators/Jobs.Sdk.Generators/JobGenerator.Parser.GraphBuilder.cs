using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    // The member graph of a job: one object model per user type it reaches.
    internal static partial class Parser
    {
        /// <summary>Walks the member graph of a job, producing one <see cref="ObjectModel"/> per user type.</summary>
        private sealed class GraphBuilder
        {
            private readonly INamedTypeSymbol _job;
            private readonly bool _hasContext;
            private readonly Dictionary<ITypeSymbol, string> _ids = new(SymbolEqualityComparer.Default);
            private readonly Dictionary<string, int> _contextIndexes = new(StringComparer.Ordinal);

            public GraphBuilder(INamedTypeSymbol job, bool hasContext)
            {
                _job = job;
                _hasContext = hasContext;
            }

            public List<ObjectModel> Objects { get; } = [];

            public List<ContextTypeModel> ContextTypes { get; } = [];

            public List<EnumModel> Enums { get; } = [];

            /// <summary>Some member type comes from a <c>#nullable disable</c> context (the emitter then silences nullable warnings).</summary>
            public bool HasObliviousNullability { get; private set; }

            /// <summary>
            /// The <c>[Obsolete]</c> <c>DiagnosticId</c>s and <c>[Experimental]</c> ids of the symbols the generated code names
            /// (the emitter silences them as it does CS0612/CS0618).
            /// </summary>
            public SortedSet<string> DiagnosticIds { get; } = new(StringComparer.Ordinal);

            public string GetObjectId(INamedTypeSymbol type)
            {
                if (_ids.TryGetValue(type, out var existing))
                {
                    return existing;
                }

                var id = Objects.Count.ToString(CultureInfo.InvariantCulture);
                _ids.Add(type, id);
                var index = Objects.Count;
                Objects.Add(null!);
                JobTypeSupport.AddDiagnosticIds(type, DiagnosticIds);
                var shape = JobTypeSupport.GetObjectShape(type, out _)!;
                var members = new List<MemberModel>();
                foreach (var member in shape.Members)
                {
                    var setter = JobTypeSupport.SetterOf(member.Property);
                    JobTypeSupport.AddDiagnosticIds(member.Property, DiagnosticIds);
                    var declaring = (setter?.ContainingType ?? member.Property.ContainingType).ToDisplayString(PlainFormat);
                    members.Add(new MemberModel(
                        member.Name,
                        member.JsonName,
                        BuildType(member.Type),
                        member.Parameter is not null,
                        member.IsRequired,
                        member.IsRequiredProperty && !shape.ConstructorSetsRequiredMembers,
                        member.IsInitOnly,
                        member.Parameter is { HasExplicitDefaultValue: true } p ? DefaultLiteral(p) : "default!",
                        declaring,
                        member.Property.ContainingType.IsValueType,
                        WriteCondition(member),
                        member.IsRead,
                        type.Name + "." + member.Name,
                        member.IsInitOnly ? GenericSetterOf(member.Property) : null,
                        JobTypeSupport.IsObsoleteError(member.Property) ? member.Property.GetMethod!.ContainingType.ToDisplayString(PlainFormat) : null));
                }

                Objects[index] = new ObjectModel(id, type.ToDisplayString(PlainFormat), type.Name, type.IsValueType, !type.IsValueType && !type.IsSealed,
                    members.ToEquatableArray());
                return id;
            }

            private string GetEnumId(INamedTypeSymbol type)
            {
                if (_ids.TryGetValue(type, out var existing))
                {
                    return existing;
                }

                var id = "e" + Enums.Count.ToString(CultureInfo.InvariantCulture);
                _ids.Add(type, id);
                var seen = new HashSet<object>();
                var fqn = type.ToDisplayString(PlainFormat);
                var fields = type.GetMembers().OfType<IFieldSymbol>()
                    .Where(f => f.HasConstantValue && f.ConstantValue is not null && seen.Add(f.ConstantValue))
                    .ToList();
                JobTypeSupport.AddDiagnosticIds(type, DiagnosticIds);
                foreach (var field in fields)
                {
                    JobTypeSupport.AddDiagnosticIds(field, DiagnosticIds);
                }

                var values = fields.Select(f => JobTypeSupport.IsObsoleteError(f)
                    ? $"({fqn})({SymbolDisplay.FormatPrimitive(f.ConstantValue!, quoteStrings: false, useHexadecimalNumbers: false)})"
                    : fqn + "." + EscapeIdentifier(f.Name));
                Enums.Add(new EnumModel(id, fqn, fields.Select(f => f.Name).ToEquatableArray(), values.ToEquatableArray()));
                return id;
            }

            private TypeModel BuildType(ITypeSymbol type)
            {
                var shape = JobTypeSupport.Classify(type, _hasContext, _job);
                JobTypeSupport.AddTypeDiagnosticIds(type, DiagnosticIds);
                if (!type.IsValueType && type.NullableAnnotation == NullableAnnotation.None)
                {
                    HasObliviousNullability = true;
                }

                var element = shape.Element is null ? null : BuildType(shape.Element);
                string? objectId = null;
                var contextIndex = -1;
                var typeOfName = type.ToDisplayString(PlainFormat);
                switch (shape.Kind)
                {
                    case JsonTypeKind.Object:
                        objectId = GetObjectId((INamedTypeSymbol)type);
                        break;
                    case JsonTypeKind.Enum:
                        objectId = GetEnumId((INamedTypeSymbol)type);
                        break;
                    case JsonTypeKind.JsonContext:
                        if (!_contextIndexes.TryGetValue(typeOfName, out contextIndex))
                        {
                            contextIndex = ContextTypes.Count;
                            _contextIndexes.Add(typeOfName, contextIndex);
                            ContextTypes.Add(new ContextTypeModel(contextIndex, typeOfName));
                        }

                        break;
                }

                return new TypeModel(shape.Kind, type.ToDisplayString(AnnotatedFormat), typeOfName, JobTypeSupport.AllowsNull(type), type.IsValueType,
                    element, objectId, contextIndex);
            }

        }
    }
}
