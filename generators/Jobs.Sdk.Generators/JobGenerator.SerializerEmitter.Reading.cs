using System.Collections.Generic;
using System.Linq;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Emitter
    {
        // Reading: one reader per object type and the statements that read each member's value.
        private sealed partial class SerializerEmitter
        {
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

                if (o.Members.Any(m => m.IsRequiredProperty && m.AccessorGetterTarget is not null))
                {
                    // The object initializer sets a required member marked [Obsolete(..., error: true)].
                    w.Line(ObsoleteContext);
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
                        if (m.IsInitOnly && m.GenericSetter is { } g)
                        {
                            var accessor = $"Set{o.Id}_{i}";
                            var target = (m.DeclaringTypeIsValueType ? "ref " : "") + g.TargetFqn;
                            _accessors.Add(
                                $"private static class {accessor}{g.TypeParameters}{g.Constraints}\n{{\n" +
                                $"    [global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = \"set_{m.Name}\")]\n" +
                                $"    internal static extern void __Set({target} target, {g.ValueFqn} value);\n}}");
                            w.Line($"if (seen.Has({i})) {accessor}{g.TypeArguments}.__Set({(m.DeclaringTypeIsValueType ? "ref " : "")}result, s.{fields[m]});");
                        }
                        else if (m.IsInitOnly || m.AccessorGetterTarget is not null)
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
