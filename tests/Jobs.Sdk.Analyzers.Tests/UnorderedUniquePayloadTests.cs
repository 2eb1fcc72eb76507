using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS024: a Unique job without [UniqueKey] members is keyed by its payload bytes; a member the generated writer cannot
/// put in one order (a set of objects; a dictionary, a set or a value it cannot judge inside what the JsonSerializerContext
/// writes) may give one job two keys.
/// </summary>
public class UnorderedUniquePayloadTests
{
    private static readonly string Context = ContextNamed("AppJsonContext");

    // What System.Text.Json's generator would complete; written out because it does not run here.
    private static string ContextNamed(string name, string attributes = "") => $$"""

        {{attributes}}
        public sealed class {{name}} : System.Text.Json.Serialization.JsonSerializerContext
        {
            public {{name}}() : base(null) { }
            protected override System.Text.Json.JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override System.Text.Json.Serialization.Metadata.JsonTypeInfo? GetTypeInfo(Type type) => null;
        }
        """;

    private static string Message(string type, string member, string reason)
        => $"The whole payload is the unique key of '{type}' (it marks no [UniqueKey] member), but the order of member '{member}' is not stable: {reason}; "
            + "two pushes of the same job can get two keys and two jobs; mark the members that identify the job with [UniqueKey]";

    private static string SetOf(string element)
        => $"it is a set of '{element}', which has no natural order to write it in, so it is written in the order it was filled in";

    [Fact]
    public Task Dictionaries_sets_of_ordered_elements_and_lists_report_nothing()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using Jobs.Sdk;
            namespace App;
            public enum Tier { Gold, Silver }
            public sealed record Item(string Sku, HashSet<Tier> Tiers);
            [Job("ordered", Unique = true)]
            public partial record Ordered(
                Dictionary<string, Item> ByName, HashSet<string> Names, HashSet<int?> Numbers, HashSet<Guid> Ids, HashSet<Tier> Tiers,
                HashSet<DateOnly> Days, HashSet<TimeSpan> Spans, HashSet<DateTimeOffset> Instants, HashSet<char> Letters, HashSet<decimal> Amounts,
                List<Item> Items, Item[] Array, IReadOnlyDictionary<string, HashSet<string>> Groups);
            """);

    [Fact]
    public Task JOBS024_sets_without_a_natural_order_anywhere_in_the_payload()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using Jobs.Sdk;
            namespace App;
            public sealed record Item(string Sku);
            public sealed record Holder(string Name, HashSet<Item> Items);
            [Job("unordered", Unique = true)]
            public partial record Unordered(Guid Account, HashSet<Item> {|#0:Items|}, HashSet<Uri>? {|#1:Links|},
                List<Holder> {|#2:Holders|}, Dictionary<string, HashSet<int[]>> {|#3:Arrays|}, int Count);
            """,
            V.Diagnostic("JOBS024").WithLocation(0).WithMessage(Message("Unordered", "Items", SetOf("Item"))),
            V.Diagnostic("JOBS024").WithLocation(1).WithMessage(Message("Unordered", "Links", SetOf("Uri"))),
            V.Diagnostic("JOBS024").WithLocation(2).WithMessage(Message("Unordered", "Holders[].Items", SetOf("Item"))),
            V.Diagnostic("JOBS024").WithLocation(3).WithMessage(Message("Unordered", "Arrays{}", SetOf("int[]"))));

    [Fact]
    public Task JOBS024_a_member_written_by_the_JsonSerializerContext()
        => V.AnalyzerAsync("""
            using System;
            using Jobs.Sdk;
            namespace App;
            [Job("with-context", Unique = true, JsonContext = typeof(AppJsonContext))]
            public partial record WithContext(string Name, System.Text.Json.JsonDocument {|#0:Raw|});
            """ + Context,
            V.Diagnostic("JOBS024").WithLocation(0).WithMessage(Message("WithContext", "Raw",
                Unjudged("JsonDocument", "a framework type whose written form this check does not know"))));

    private static string Unjudged(string type, string why) => $"it is written by the job's JsonSerializerContext as '{type}', {why}";

    private const string Unordered = "and the job's JsonSerializerContext writes dictionaries and sets in the order they were filled in";

    // [JsonNumberHandling] on a type sends it through the JsonSerializerContext (the generated writer does not honour it).
    [Fact]
    public Task A_context_written_record_of_ordered_members_reports_nothing()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Collections.Immutable;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            public enum Tier { Gold, Silver }
            public sealed record Line(string Sku, int Quantity, Tier Tier, decimal? Price, Uri? Link);
            public sealed class Node { public string Name { get; set; } = ""; public Node? Next { get; set; } public List<Node> Children { get; set; } = []; }
            public abstract class Base { public string Id { get; set; } = ""; }
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed class Money : Base
            {
                public string Currency { get; set; } = "";
                public long Cents { get; set; }
                public int[] Parts { get; set; } = [];
                public IReadOnlyList<Line> Lines { get; set; } = [];
                public ImmutableArray<Guid> Ids { get; set; }
                public SortedDictionary<string, Line> ByName { get; set; } = [];
                public SortedSet<string> Tags { get; set; } = [];
                public Node Tree { get; set; } = new();
                [JsonIgnore] public Dictionary<string, int> Cache { get; set; } = [];
                private Dictionary<string, object> Hidden { get; set; } = [];
                public Dictionary<string, int> Field = [];
                public string this[int i] => Currency;
            }
            [Job("plain", Unique = true, JsonContext = typeof(AppJsonContext))]
            public partial record Plain(string Name, Money Amount);
            """ + Context);

    [Fact]
    public Task JOBS024_names_the_path_to_a_dictionary_set_or_object_inside_a_context_written_member()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            public sealed record Counts(string Name, Dictionary<string, int> ByDay);
            public sealed record Labels(List<HashSet<string>> Groups);
            public interface IShape { int Sides { get; } }
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed record Report(string Name, Counts Counts);
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed record Tagged(Labels Labels);
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed record Loose(string Name, object Value);
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed record Drawn(IShape Shape);
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed record Converted([property: JsonConverter(typeof(JsonStringEnumConverter))] int Raw);
            [Job("deep", Unique = true, JsonContext = typeof(AppJsonContext))]
            public partial record Deep(Report {|#0:Report|}, Tagged {|#1:Tagged|}, Loose {|#2:Loose|}, Drawn {|#3:Drawn|}, Converted {|#4:Converted|});
            """ + Context,
            V.Diagnostic("JOBS024").WithLocation(0).WithMessage(Message("Deep", "Report.Counts.ByDay", "it is a dictionary, " + Unordered)),
            V.Diagnostic("JOBS024").WithLocation(1).WithMessage(Message("Deep", "Tagged.Labels.Groups[]", "it is a set, " + Unordered)),
            V.Diagnostic("JOBS024").WithLocation(2).WithMessage(Message("Deep", "Loose.Value",
                Unjudged("object", "which is written as whatever type the value has at run time"))),
            V.Diagnostic("JOBS024").WithLocation(3).WithMessage(Message("Deep", "Drawn.Shape",
                Unjudged("IShape", "an interface or abstract type whose implementations this check cannot see"))),
            V.Diagnostic("JOBS024").WithLocation(4).WithMessage(Message("Deep", "Converted.Raw",
                "it is written by the job's JsonSerializerContext through a [JsonConverter], whose output this check cannot see")));

    [Fact]
    public Task JOBS024_follows_fields_when_the_context_includes_them_and_gives_up_on_context_converters()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed class Bag { public string Name = ""; public HashSet<int> Ids = []; }
            [JsonNumberHandling(JsonNumberHandling.WriteAsString)]
            public sealed record Amount(string Currency, long Cents);
            [Job("fields", Unique = true, JsonContext = typeof(FieldsContext))]
            public partial record WithFields(Bag {|#0:Bag|});
            [Job("converters", Unique = true, JsonContext = typeof(ConvertingContext))]
            public partial record WithConverters(Amount {|#1:Amount|});
            """ + ContextNamed("FieldsContext", "[JsonSourceGenerationOptions(IncludeFields = true)]")
            + ContextNamed("ConvertingContext", "[JsonSourceGenerationOptions(Converters = new[] { typeof(JsonStringEnumConverter) })]"),
            V.Diagnostic("JOBS024").WithLocation(0).WithMessage(Message("WithFields", "Bag.Ids", "it is a set, " + Unordered)),
            V.Diagnostic("JOBS024").WithLocation(1).WithMessage(Message("WithConverters", "Amount",
                "it is written by the job's JsonSerializerContext, whose options name converters ([JsonSourceGenerationOptions(Converters = ...)]) whose output this check cannot see")));

    [Fact]
    public Task Not_reported_with_UniqueKey_members_without_Unique_or_for_ignored_members()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            public sealed record Item(string Sku);
            [Job("keyed", Unique = true, JsonContext = typeof(AppJsonContext))]
            public partial record Keyed([property: UniqueKey] Guid Account, HashSet<Item> Items, Int128 Amount);
            [Job("not-unique")]
            public partial record NotUnique(HashSet<Item> Items);
            [Job("ignored", Unique = true)]
            public partial class Ignored
            {
                public Guid Account { get; set; }
                [JsonIgnore] public HashSet<Item> Items { get; set; } = [];
            }
            """ + Context);
}
