using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// Emits the nested helper class holding what is specific to one job: its property names, one writer and one
        /// reader per object type, one writer per enum. Everything fixed lives in <c>Jobs.Sdk.Infrastructure.JobJsonServices</c>
        /// (<see cref="Services"/>).
        /// </summary>
        private sealed class SerializerEmitter
        {
            private readonly JobModel _job;
            private readonly SourceWriter _w;
            private readonly Dictionary<string, ObjectModel> _objects;
            private readonly Dictionary<string, int> _enumIndexes;
            private readonly List<string> _accessors = [];
            private int _counter;

            public SerializerEmitter(JobModel job, SourceWriter writer)
            {
                _job = job;
                _w = writer;
                _objects = job.Objects.ToDictionary(o => o.Id, StringComparer.Ordinal);
                _enumIndexes = job.Enums.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
            }

            public void Emit()
            {
                var w = _w;
                w.Line(GeneratedCode);
                w.Open($"private static class {_job.HelperClassName}");
                w.Line($"internal const string JobName = {Literal(_job.JobName)};");
                foreach (var o in _job.Objects)
                {
                    var named = Named(o).ToList();
                    var names = named.SelectMany(x => new[] { Literal(x.Member.Name), Literal(x.Member.JsonName) });
                    var required = named.Where(x => x.Member.IsRead && x.Member.IsRequired).Select(x => x.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                    var writeOnly = named.Where(x => !x.Member.IsRead).Select(x => x.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                    // Array creations, not collection expressions: they bind without the collection-expression
                    // conversion analysis (a measurable part of compiling 200 jobs; see the benchmarks README).
                    var tail = writeOnly.Count > 0 ? $", new int[] {{ {string.Join(", ", writeOnly)} }}" : "";
                    w.Line($"private static readonly global::Jobs.Sdk.Infrastructure.JobJsonObjectInfo s_info{o.Id} = new global::Jobs.Sdk.Infrastructure.JobJsonObjectInfo({StringArray(names.ToList())}, {IntArray(required)}{tail});");
                }

                for (var e = 0; e < _job.Enums.Count; e++)
                {
                    var en = _job.Enums[e];
                    var values = string.Join(", ", en.Members.Select(m => $"{en.Fqn}.{Identifier(m)}"));
                    w.Line($"private static readonly global::Jobs.Sdk.Infrastructure.JobJsonEnumWriter<{en.Fqn}> s_e{e} = new global::Jobs.Sdk.Infrastructure.JobJsonEnumWriter<{en.Fqn}>(new {en.Fqn}[] {{ {values} }}, {StringArray(en.Members.Select(Literal).ToList())});");
                }

                foreach (var o in _job.Objects)
                {
                    w.Line();
                    EmitWriteObject(o);
                    w.Line();
                    EmitReadObject(o);
                }

                foreach (var c in _job.ContextTypes)
                {
                    w.Line();
                    var info = $"{Json}.Serialization.Metadata.JsonTypeInfo<{c.TypeOfName}>";
                    w.Line($"private static {info}? s_typeInfo{c.Index};");
                    w.Line($"private static {info} TypeInfo{c.Index} => s_typeInfo{c.Index} ??=");
                    w.Line($"    ({info}?){_job.ContextFqn}.Default.GetTypeInfo(typeof({c.TypeOfName}))");
                    w.Line($"    ?? throw new global::System.InvalidOperationException({Literal($"The JsonSerializerContext '{_job.ContextFqn!.Replace("global::", "")}' has no metadata for '{c.TypeOfName.Replace("global::", "")}' (job '{_job.JobName}'). Add [JsonSerializable(typeof({c.TypeOfName.Replace("global::", "")}))] to the context.")});");
                }

                foreach (var accessor in _accessors)
                {
                    w.Line();
                    w.Lines(accessor);
                }

                w.Close();
            }

            private static string StringArray(List<string> items) => items.Count == 0 ? "global::System.Array.Empty<string>()" : $"new string[] {{ {string.Join(", ", items)} }}";

            private static string IntArray(List<string> items) => items.Count == 0 ? "global::System.Array.Empty<int>()" : $"new int[] {{ {string.Join(", ", items)} }}";

            /// <summary>The members that are written or read, with their index in the object's name table.</summary>
            private static IEnumerable<(MemberModel Member, int Index)> Named(ObjectModel o)
                => o.Members.Where(m => m.IsRead || m.WriteCondition != MemberWriteCondition.Never).Select((m, i) => (m, i));

            private string Next(string prefix) => $"{prefix}{_counter++}";

            // ---------------------------------------------------------------- writing

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
                    case JsonTypeKind.Single or JsonTypeKind.Double or JsonTypeKind.Char or JsonTypeKind.DateOnly or JsonTypeKind.TimeOnly or JsonTypeKind.TimeSpan:
                        w.Line($"{Services}.Write{t.Kind}(writer, {x});");
                        break;
                    case JsonTypeKind.Uri: w.Line($"{Services}.WriteString(writer, {x}.OriginalString);"); break;
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

            // ---------------------------------------------------------------- reading

            /// <summary>
            /// The reader of one object: a state struct with one field per member, the entry point that lets
            /// <c>JobJsonServices.ReadObject</c> run the property loop (name matching, unknown members, error location,
            /// required members), and the member reader it calls: a switch on the member index.
            /// </summary>
            private void EmitReadObject(ObjectModel o)
            {
                var w = _w;
                var read = Named(o).Where(x => x.Member.IsRead).ToList();
                var fields = new Dictionary<MemberModel, string>();
                var initial = new List<(MemberModel Member, string Field)>();
                for (var i = 0; i < o.Members.Count; i++)
                {
                    var m = o.Members[i];
                    if (m.IsRead || m.IsConstructorParameter || m.IsRequiredProperty)
                    {
                        fields[m] = "v" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        initial.Add((m, fields[m]));
                    }
                }

                string Initial(MemberModel m) => m.IsConstructorParameter ? m.DefaultValue : "default!";
                string Value(MemberModel m) => read.Count > 0 ? "s." + fields[m] : Initial(m);
                var setters = read.Where(x => !(x.Member.IsConstructorParameter || x.Member.IsRequiredProperty)).ToList();
                if (read.Count > 0)
                {
                    w.Line($"private struct State{o.Id} {{ {string.Concat(initial.Select(x => $"internal {x.Member.Type.Fqn} {x.Field}; "))}}}");
                }

                w.Open($"internal static {o.Fqn} Read{o.Id}(ref {Reader} reader)");
                if (read.Count == 0)
                {
                    w.Line($"{Services}.SkipObject(ref reader);");
                }
                else
                {
                    var defaults = initial.Where(x => Initial(x.Member) != "default!").Select(x => $"{x.Field} = {Initial(x.Member)}").ToList();
                    w.Line($"var s = new State{o.Id}{(defaults.Count > 0 ? " { " + string.Join(", ", defaults) + " }" : "()")};");
                    w.Line($"{(setters.Count > 0 ? "var seen = " : "")}{Services}.ReadObject<State{o.Id}>(ref reader, s_info{o.Id}, ref s, Member{o.Id});");
                }

                var ctorArgs = string.Join(", ", o.Members.Where(m => m.IsConstructorParameter).Select(Value));
                var initializers = o.Members.Where(m => !m.IsConstructorParameter && m.IsRequiredProperty).Select(m => $"{Identifier(m.Name)} = {Value(m)}").ToList();
                var creation = $"new {o.Fqn}({ctorArgs})" + (initializers.Count > 0 ? " { " + string.Join(", ", initializers) + " }" : "");
                if (setters.Count == 0)
                {
                    w.Line($"return {creation};");
                }
                else
                {
                    w.Line($"var result = {creation};");
                    foreach (var (m, i) in setters)
                    {
                        if (m.IsInitOnly)
                        {
                            var accessor = $"Set{o.Id}_{i}";
                            var target = m.DeclaringTypeIsValueType ? "ref " + m.DeclaringTypeFqn : m.DeclaringTypeFqn;
                            _accessors.Add(
                                $"[global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = \"set_{m.Name}\")]\n" +
                                $"private static extern void {accessor}({target} target, {m.Type.Fqn} value);");
                            w.Line($"if (seen.Has({i})) {accessor}({(m.DeclaringTypeIsValueType ? "ref " : "")}result, s.{fields[m]});");
                        }
                        else
                        {
                            w.Line($"if (seen.Has({i})) result.{Identifier(m.Name)} = s.{fields[m]};");
                        }
                    }

                    w.Line("return result;");
                }

                w.Close();
                if (read.Count == 0)
                {
                    return;
                }

                w.Line();
                w.Open($"private static void Member{o.Id}(ref {Reader} reader, int member, ref State{o.Id} s)");
                w.Open("switch (member)");
                foreach (var (m, i) in read)
                {
                    if (SimpleAssignment(m.Type, "s." + fields[m]) is { } assignment)
                    {
                        w.Line($"case {i}: {assignment} break;");
                        continue;
                    }

                    w.Line($"case {i}:");
                    w.Indent++;
                    EmitReadValue(m.Type, "s." + fields[m]);
                    w.Line("break;");
                    w.Indent--;
                }

                w.Close();
                w.Close();
            }

            private static string? SimpleRead(TypeModel t) => t.Kind switch
            {
                JsonTypeKind.Enum => $"{Services}.ReadEnum<{t.TypeOfName}>(ref reader)",
                JsonTypeKind.Object => $"Read{t.ObjectId}(ref reader)",
                JsonTypeKind.Nullable => SimpleRead(t.Element!),
                JsonTypeKind.JsonContext or JsonTypeKind.Dictionary or JsonTypeKind.IDictionary or JsonTypeKind.IReadOnlyDictionary => null,
                _ when t.Element is not null => null,
                _ => $"{Services}.Read{t.Kind}(ref reader)",
            };

            /// <summary>The one statement that reads <paramref name="t"/> into <paramref name="target"/>, when there is one.</summary>
            private static string? SimpleAssignment(TypeModel t, string target)
            {
                var simple = SimpleRead(t) ?? ListRead(t);
                return simple is null ? null
                    : t.AllowsNull ? $"{target} = reader.TokenType == {Token}.Null ? null : {simple};"
                    : $"{target} = {simple};";
            }

            /// <summary>
            /// A list or array of elements read by one runtime or generated reader (not null): read by
            /// <c>JobJsonServices.ReadList</c>, which also names the failing index.
            /// </summary>
            private static string? ListRead(TypeModel t)
            {
                var isList = t.Kind is JsonTypeKind.List or JsonTypeKind.IList or JsonTypeKind.IReadOnlyList or JsonTypeKind.ICollection
                    or JsonTypeKind.IReadOnlyCollection or JsonTypeKind.IEnumerable or JsonTypeKind.Array;
                var isDictionary = t.Kind is JsonTypeKind.Dictionary or JsonTypeKind.IDictionary or JsonTypeKind.IReadOnlyDictionary;
                if (!(isList || isDictionary) || t.Element is not { AllowsNull: false } e || e.Kind is JsonTypeKind.Nullable || SimpleRead(e) is null)
                {
                    return null;
                }

                var item = e.Kind switch
                {
                    JsonTypeKind.Enum => $"{Services}.ReadEnum<{e.TypeOfName}>",
                    JsonTypeKind.Object => $"Read{e.ObjectId}",
                    _ => $"{Services}.Read{e.Kind}",
                };
                var read = $"{Services}.Read{(isList ? "List" : "Dictionary")}<{e.Fqn}>(ref reader, {item})";
                return t.Kind == JsonTypeKind.Array ? read + ".ToArray()" : read;
            }

            private void EmitReadValue(TypeModel t, string target)
            {
                var w = _w;
                if (SimpleAssignment(t, target) is { } assignment)
                {
                    w.Line(assignment);
                    return;
                }

                if (t.AllowsNull)
                {
                    w.Line($"if (reader.TokenType == {Token}.Null) {target} = null;");
                    w.Open("else");
                    EmitReadNonNull(t.Kind == JsonTypeKind.Nullable ? t.Element! : t, target);
                    w.Close();
                    return;
                }

                EmitReadNonNull(t, target);
            }

            private void EmitReadNonNull(TypeModel t, string target)
            {
                var w = _w;
                switch (t.Kind)
                {
                    case JsonTypeKind.JsonContext:
                        if (!t.AllowsNull)
                        {
                            w.Line($"if (reader.TokenType == {Token}.Null) throw {Services}.Unexpected(ref reader, \"a value\");");
                        }

                        w.Line($"{target} = {Json}.JsonSerializer.Deserialize(ref reader, TypeInfo{t.ContextIndex})!;");
                        return;
                    case JsonTypeKind.Nullable:
                        EmitReadValue(t.Element!, target);
                        return;
                    case JsonTypeKind.Dictionary or JsonTypeKind.IDictionary or JsonTypeKind.IReadOnlyDictionary:
                    {
                        var dictionary = Next("d");
                        var key = Next("k");
                        var value = Next("e");
                        w.Line($"{Services}.StartObject(ref reader);");
                        w.Line($"var {dictionary} = new global::System.Collections.Generic.Dictionary<string, {t.Element!.Fqn}>();");
                        w.Line($"var {key} = \"\";");
                        w.Open("try");
                        w.Open($"while (reader.Read() && reader.TokenType != {Token}.EndObject)");
                        w.Line($"{key} = reader.GetString()!;");
                        w.Line("reader.Read();");
                        w.Line($"{t.Element.Fqn} {value};");
                        EmitReadValue(t.Element, value);
                        w.Line($"{dictionary}[{key}] = {value};");
                        w.Close();
                        w.Close();
                        w.Line($"catch (global::System.Exception exception) when ({Services}.IsReadError(exception)) {{ throw {Services}.AtKey(exception, {key}); }}");
                        w.Line($"{target} = {dictionary};");
                        return;
                    }

                    default:
                    {
                        var list = Next("l");
                        var index = Next("i");
                        var value = Next("e");
                        var e = t.Element!;
                        var isImmutable = t.Kind == JsonTypeKind.ImmutableArray;
                        if (isImmutable)
                        {
                            // null is how a default ImmutableArray is written (it is a struct: no other meaning for null).
                            w.Line($"if (reader.TokenType == {Token}.Null) {target} = default;");
                            w.Open("else");
                        }

                        w.Line($"{Services}.StartArray(ref reader);");
                        var collection = t.Kind == JsonTypeKind.HashSet ? "HashSet" : "List";
                        w.Line($"var {list} = new global::System.Collections.Generic.{collection}<{e.Fqn}>();");
                        w.Line($"var {index} = 0;");
                        w.Open("try");
                        w.Open($"for (; reader.Read() && reader.TokenType != {Token}.EndArray; {index}++)");
                        w.Line($"{e.Fqn} {value};");
                        EmitReadValue(e, value);
                        w.Line($"{list}.Add({value});");
                        w.Close();
                        w.Close();
                        w.Line($"catch (global::System.Exception exception) when ({Services}.IsReadError(exception)) {{ throw {Services}.AtIndex(exception, {index}); }}");
                        var result = t.Kind switch
                        {
                            JsonTypeKind.Array => $"{list}.ToArray()",
                            JsonTypeKind.ImmutableArray => $"global::System.Collections.Immutable.ImmutableArray.CreateRange({list})",
                            _ => list,
                        };
                        w.Line($"{target} = {result};");
                        if (isImmutable)
                        {
                            w.Close();
                        }

                        return;
                    }
                }
            }
        }
    }
}
