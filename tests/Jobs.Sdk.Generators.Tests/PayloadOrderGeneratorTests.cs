namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// The generated writer puts dictionaries and sets of simply ordered elements in one order, whatever order they were
/// filled in (a unique job without key members is keyed by its payload bytes); lists, arrays and sets it cannot order
/// keep their enumeration order.
/// </summary>
public class PayloadOrderGeneratorTests
{
    [Fact]
    public void Dictionaries_and_sets_of_simply_ordered_elements_are_written_sorted_and_nothing_else_is()
    {
        var output = GeneratorHarness.Run("""
            using System;
            using System.Collections.Generic;
            using Jobs.Sdk;
            namespace App;
            public enum Mood { Calm, Angry }
            public sealed record Item(string Name);
            [Job("sets", Unique = true)]
            public partial record Sets(
                HashSet<int?> Maybe, HashSet<string> Names, HashSet<Uri> Links, HashSet<Item> Items, HashSet<int[]> Arrays,
                List<string> Ordered, string[] Array, IReadOnlyDictionary<string, HashSet<Mood>> ByKey, IDictionary<string, List<int>>? Lists);
            [Job("plain", Unique = true)] public partial record Plain(List<string> Names, int[] Numbers, Item Item);
            """).AssertClean();

        var sets = output.Files["App.Sets.g.cs"];
        // Maybe, Names and ByKey's values; not Links, Items or Arrays (no natural order), nor the list and the array.
        Assert.Equal(3, Count(sets, "global::Jobs.Sdk.Infrastructure.JobJsonServices.Sorted("));
        Assert.Equal(2, Count(sets, "global::Jobs.Sdk.Infrastructure.JobJsonServices.SortedByKey("));
        Assert.DoesNotContain("Sorted", output.Files["App.Plain.g.cs"], StringComparison.Ordinal);
    }

    private static int Count(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
