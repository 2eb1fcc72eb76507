using System;
using System.Collections.Generic;
using System.Linq;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Model;

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
        private sealed partial class SerializerEmitter
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
                    var values = string.Join(", ", en.Values);
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
        }
    }
}
