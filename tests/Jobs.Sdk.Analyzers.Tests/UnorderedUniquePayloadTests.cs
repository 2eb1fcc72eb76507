using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS024: a Unique job without [UniqueKey] members is keyed by its payload bytes; a member the generated writer cannot
/// put in one order (a set of objects, a value written by the JsonSerializerContext) may give one job two keys.
/// </summary>
public class UnorderedUniquePayloadTests
{
    private const string Context = """

        // What System.Text.Json's generator would complete; written out because it does not run here.
        public sealed class AppJsonContext : System.Text.Json.Serialization.JsonSerializerContext
        {
            public AppJsonContext() : base(null) { }
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
            using System.Numerics;
            using Jobs.Sdk;
            namespace App;
            [Job("with-context", Unique = true, JsonContext = typeof(AppJsonContext))]
            public partial record WithContext(string Name, BigInteger {|#0:Amount|});
            """ + Context,
            V.Diagnostic("JOBS024").WithLocation(0).WithMessage(Message("WithContext", "Amount",
                "it is written by the job's JsonSerializerContext, which writes dictionaries and sets in the order they were filled in")));

    [Fact]
    public Task Not_reported_with_UniqueKey_members_without_Unique_or_for_ignored_members()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Numerics;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            public sealed record Item(string Sku);
            [Job("keyed", Unique = true, JsonContext = typeof(AppJsonContext))]
            public partial record Keyed([property: UniqueKey] Guid Account, HashSet<Item> Items, BigInteger Amount);
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
