using System;
using System.Linq;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Emitter
    {
        // Writing: one writer per object type and the statements that write each member's value.
        private sealed partial class SerializerEmitter
        {
            private void EmitWriteObject(ObjectModel o)
            {
                var w = _w;
                w.Open($"internal static void Write{o.Id}({Writer} writer, {o.Fqn} value)");
                if (o.MayBeDerived)
                {
                    // A derived instance would be written with the declared type's members only (and read back as it).
                    w.Line($"if (value.GetType() != typeof({o.Fqn})) throw {Services}.DerivedInstance(value, {Literal(o.DisplayName)});");
                }

                w.Line("writer.WriteStartObject();");
                foreach (var (m, i) in Named(o).Where(x => x.Member.WriteCondition != MemberWriteCondition.Never))
                {
                    var expression = "value." + Identifier(m.Name);
                    if (m.AccessorGetterTarget is { } target)
                    {
                        // [Obsolete(..., error: true)]: naming the property is CS0619, so its getter is called by name.
                        var accessor = $"Get{o.Id}_{i}";
                        var byRef = m.DeclaringTypeIsValueType ? "ref " : "";
                        _accessors.Add(
                            $"[global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = \"get_{m.Name}\")]\n" +
                            $"private static extern {m.Type.Fqn} {accessor}({byRef}{target} target);");
                        expression = $"{accessor}({byRef}value)";
                    }

                    var condition = m.WriteCondition switch
                    {
                        MemberWriteCondition.WhenNotNull when m.Type.AllowsNull => $"{expression} is not null",
                        MemberWriteCondition.WhenNotDefault when !m.Type.IsValueType => $"{expression} is not null",
                        MemberWriteCondition.WhenNotDefault => $"!global::System.Collections.Generic.EqualityComparer<{m.Type.Fqn}>.Default.Equals({expression}, default)",
                        _ => null,
                    };
                    if (condition is not null)
                    {
                        w.Open($"if ({condition})");
                    }

                    EmitWriteProperty($"s_info{o.Id}[{i}]", m, expression);
                    if (condition is not null)
                    {
                        w.Close();
                    }
                }

                w.Line("writer.WriteEndObject();");
                w.Close();
            }

            private void EmitWriteProperty(string name, MemberModel m, string expression)
            {
                var w = _w;
                var t = m.Type;
                var inner = t.Kind == JsonTypeKind.Nullable ? t.Element! : t;
                if (SimpleWriter(inner.Kind) is { } simple)
                {
                    if (t.Kind == JsonTypeKind.Nullable)
                    {
                        var local = Next("v");
                        w.Line($"if ({expression} is {{ }} {local}) {Services}.Write{simple.Method}Property(writer, {name}, {string.Format(simple.Format, local)}); else writer.WriteNull({name});");
                    }
                    else
                    {
                        var value = t.Kind == JsonTypeKind.String && !t.AllowsNull ? NotNull(expression, m.NullLabel) : expression;
                        w.Line($"{Services}.Write{simple.Method}Property(writer, {name}, {string.Format(simple.Format, value)});");
                    }

                    return;
                }

                w.Line($"writer.WritePropertyName({name});");
                EmitWriteValue(t, expression, m.NullLabel);
            }

            private static string DefaultInNullableMessage(string label)
                => "'" + label + "' holds a default ImmutableArray (IsDefault), which the payload carries as null; this member is nullable, so a worker would read it as null (no value). "
                    + "Set it to null or to an array (ImmutableArray<T>.Empty for none) before pushing.";

            private static string NotNull(string expression, string label) => $"{Services}.NotNull({expression}, {Literal(label)})";

            /// <summary>
            /// Kinds written by one runtime method per type (<c>JobJsonServices.Write{Method}</c> for a value,
            /// <c>Write{Method}Property</c> for a property; string handles null itself). These have one name each where
            /// <c>Utf8JsonWriter.WriteString</c>/<c>WriteNumber</c> have about thirty overloads, which the compiler would
            /// otherwise resolve for every member of every job.
            /// </summary>
            private static (string Method, string Format)? SimpleWriter(JsonTypeKind kind) => kind switch
            {
                JsonTypeKind.Boolean => ("Boolean", "{0}"),
                JsonTypeKind.Byte or JsonTypeKind.SByte or JsonTypeKind.Int16 or JsonTypeKind.UInt16 or JsonTypeKind.Int32 => ("Int32", "{0}"),
                JsonTypeKind.UInt32 => ("UInt32", "{0}"),
                JsonTypeKind.Int64 => ("Int64", "{0}"),
                JsonTypeKind.UInt64 => ("UInt64", "{0}"),
                JsonTypeKind.Decimal => ("Decimal", "{0}"),
                JsonTypeKind.IntPtr => ("Int64", "(long){0}"),
                JsonTypeKind.UIntPtr => ("UInt64", "(ulong){0}"),
                JsonTypeKind.String => ("String", "{0}"),
                JsonTypeKind.Guid => ("Guid", "{0}"),
                JsonTypeKind.DateTime => ("DateTime", "{0}"),
                JsonTypeKind.DateTimeOffset => ("DateTimeOffset", "{0}"),
                _ => null,
            };

            private void EmitWriteValue(TypeModel t, string expression, string label)
            {
                var w = _w;
                if (t.Kind == JsonTypeKind.Nullable || (!t.IsValueType && t.AllowsNull && t.Kind != JsonTypeKind.String))
                {
                    var local = Next("v");
                    w.Open($"if ({expression} is {{ }} {local})");
                    if (t.Kind == JsonTypeKind.Nullable && t.Element!.Kind == JsonTypeKind.ImmutableArray)
                    {
                        // A default ImmutableArray is written as null (see below), which a nullable member reads back as no value.
                        w.Line($"if ({local}.IsDefault) throw new global::System.ArgumentException({Literal(DefaultInNullableMessage(label))}, {Literal(label)});");
                    }

                    EmitWriteNonNull(t.Kind == JsonTypeKind.Nullable ? t.Element! : t, local, label);
                    w.Close();
                    w.Line("else writer.WriteNullValue();");
                    return;
                }

                if (!t.IsValueType && !t.AllowsNull)
                {
                    var local = Next("v");
                    w.Line($"var {local} = {NotNull(expression, label)};");
                    expression = local;
                }

                EmitWriteNonNull(t, expression, label);
            }

            private void EmitWriteNonNull(TypeModel t, string x, string label)
            {
                var w = _w;
                if (SimpleWriter(t.Kind) is { } simple)
                {
                    w.Line($"{Services}.Write{simple.Method}(writer, {string.Format(simple.Format, x)});");
                    return;
                }

                switch (t.Kind)
                {
                    case JsonTypeKind.Single or JsonTypeKind.Double or JsonTypeKind.Char or JsonTypeKind.DateOnly or JsonTypeKind.TimeOnly or JsonTypeKind.TimeSpan
                        or JsonTypeKind.Uri:
                        w.Line($"{Services}.Write{t.Kind}(writer, {x});");
                        break;
                    case JsonTypeKind.ByteArray: w.Line($"writer.WriteBase64StringValue({x});"); break;
                    case JsonTypeKind.Enum: w.Line($"s_e{_enumIndexes[t.ObjectId!]}.Write(writer, {x});"); break;
                    case JsonTypeKind.Object: w.Line($"Write{t.ObjectId}(writer, {x});"); break;
                    case JsonTypeKind.JsonContext: w.Line($"{Json}.JsonSerializer.Serialize(writer, {x}, TypeInfo{t.ContextIndex});"); break;
                    case JsonTypeKind.Dictionary or JsonTypeKind.IDictionary or JsonTypeKind.IReadOnlyDictionary:
                    {
                        // Sorted by key: a dictionary enumerates in the order it was filled in, and the payload of a
                        // unique job without key members is its key (see JobJsonServices.SortedByKey).
                        var pair = Next("kv");
                        w.Line("writer.WriteStartObject();");
                        w.Open($"foreach (var {pair} in {Services}.SortedByKey({x}))");
                        w.Line($"{Services}.WritePropertyName(writer, {pair}.Key);");
                        EmitWriteValue(t.Element!, pair + ".Value", label + "{}");
                        w.Close();
                        w.Line("writer.WriteEndObject();");
                        break;
                    }

                    case JsonTypeKind.IReadOnlyList or JsonTypeKind.IList:
                    {
                        var i = Next("i");
                        w.Line("writer.WriteStartArray();");
                        w.Open($"for (var {i} = 0; {i} < {x}.Count; {i}++)");
                        EmitWriteValue(t.Element!, $"{x}[{i}]", label + "[]");
                        w.Close();
                        w.Line("writer.WriteEndArray();");
                        break;
                    }

                    case JsonTypeKind.ImmutableArray:
                    {
                        // default(ImmutableArray<T>) is not the empty array (IsDefault): written as null, read back as default.
                        var item = Next("e");
                        w.Line($"if ({x}.IsDefault) writer.WriteNullValue();");
                        w.Open("else");
                        w.Line("writer.WriteStartArray();");
                        w.Open($"foreach (var {item} in {x})");
                        EmitWriteValue(t.Element!, item, label + "[]");
                        w.Close();
                        w.Line("writer.WriteEndArray();");
                        w.Close();
                        break;
                    }

                    case JsonTypeKind.Array or JsonTypeKind.List or JsonTypeKind.HashSet or JsonTypeKind.ICollection or JsonTypeKind.IReadOnlyCollection or JsonTypeKind.IEnumerable:
                    {
                        // A set of simply ordered elements is written sorted, for the reason dictionaries are; other sets
                        // cannot be (JOBS024 warns when such a set is part of a whole-payload unique key). Lists keep their order.
                        var item = Next("e");
                        var source = t.Kind == JsonTypeKind.HashSet && IsSimplyOrdered(t.Element!) ? $"{Services}.Sorted({x})" : x;
                        w.Line("writer.WriteStartArray();");
                        w.Open($"foreach (var {item} in {source})");
                        EmitWriteValue(t.Element!, item, label + "[]");
                        w.Close();
                        w.Line("writer.WriteEndArray();");
                        break;
                    }

                    default:
                        throw new InvalidOperationException("Unexpected kind " + t.Kind);
                }
            }

            /// <summary>An element the runtime can sort (<see cref="PayloadOrderSupport"/>), or its nullable form.</summary>
            private static bool IsSimplyOrdered(TypeModel e)
                => PayloadOrderSupport.IsSimplyOrdered(e.Kind == JsonTypeKind.Nullable ? e.Element!.Kind : e.Kind);
        }
    }
}
