using Microsoft.CodeAnalysis.Testing;
using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

public class UnsupportedMemberTests
{
    /// <summary>JOBS010 at location <paramref name="location"/>: member <paramref name="member"/> of job <paramref name="job"/> cannot be serialized, because of <paramref name="reason"/>.</summary>
    private static DiagnosticResult Jobs010(int location, string job, string member, string type, string reason)
        => V.Diagnostic("JOBS010").WithLocation(location).WithMessage(
            $"Job '{job}' cannot be serialized by the generated serializer: member '{member}' (type '{type}'): {reason}; " +
            "use a supported type or name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]");

    [Fact]
    public Task JOBS010_unsupported_member_types()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.IO;
            using Jobs.Sdk;
            namespace App;

            [Job("upload")]
            public partial record Upload(string Name, Stream {|#0:Content|});

            [Job("order")]
            public partial class Order
            {
                public Guid Id { get; set; }
                public List<Line> {|#1:Lines|} { get; set; } = new();
            }

            public sealed class Line
            {
                public string Sku { get; set; } = "";
                public Dictionary<int, string> Tags { get; set; } = new();
            }
            """,
            Jobs010(0, "Upload", "Content", "Stream",
                "'System.IO.Stream' is abstract, static, a ref struct or object, which the generated serializer cannot create"),
            Jobs010(1, "Order", "Lines[].Tags", "Dictionary<int, string>",
                "dictionaries must have string keys"));

    [Fact]
    public Task JOBS010_not_reported_for_supported_members_or_with_JsonContext()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.IO;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;

            public enum Priority { Low, High }

            [Job("supported")]
            public partial record Supported(
                string Name, int Count, long? Size, decimal Amount, bool Flag, Guid Id, DateTimeOffset At, TimeSpan Delay,
                Uri? Link, byte[] Data, Priority Priority, List<string> Tags, Dictionary<string, int> Counts, int[] Numbers,
                IReadOnlyList<Item> Items);

            public sealed record Item(string Sku, int Quantity);

            [Job("with-context", JsonContext = typeof(UploadJsonContext))]
            public partial record WithContext(string Name, Stream Content);

            // What System.Text.Json's generator would complete; written out because it does not run here.
            public sealed class UploadJsonContext : JsonSerializerContext
            {
                public UploadJsonContext() : base(null) { }
                protected override System.Text.Json.JsonSerializerOptions? GeneratedSerializerOptions => null;
                public override System.Text.Json.Serialization.Metadata.JsonTypeInfo? GetTypeInfo(Type type) => null;
            }
            """);

    [Fact]
    public Task JOBS010_user_collection_types_and_framework_base_classes()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections;
            using System.Collections.Generic;
            using Jobs.Sdk;
            namespace App;

            // Serialized member by member, these would carry {"capacity":4} and lose their elements.
            public class Tags : List<string> { }
            public class Bag : IEnumerable<int>
            {
                private readonly List<int> _items = new();
                public IEnumerator<int> GetEnumerator() => _items.GetEnumerator();
                IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
            }
            public class Failure : Exception { public string? Code { get; set; } }

            [Job("tags")] public partial record TagsJob(Tags {|#0:Tags|});
            [Job("bag")] public partial record BagJob(Bag {|#1:Bag|});
            [Job("failure")] public partial record FailureJob(Failure {|#2:Failure|});
            [Job("tuple")] public partial record TupleJob((int A, string B) {|#3:Pair|});
            """,
            Jobs010(0, "TagsJob", "Tags", "Tags",
                "'App.Tags' is a collection (it implements IEnumerable), which the generated serializer would write as an object without its elements; declare the member as List<T>, T[] or another supported collection"),
            Jobs010(1, "BagJob", "Bag", "Bag",
                "'App.Bag' is a collection (it implements IEnumerable), which the generated serializer would write as an object without its elements; declare the member as List<T>, T[] or another supported collection"),
            Jobs010(2, "FailureJob", "Failure", "Failure",
                "'App.Failure' derives from the framework type 'System.Exception', whose state the generated serializer cannot see"),
            Jobs010(3, "TupleJob", "Pair", "(int A, string B)",
                "'(int A, string B)' is a tuple, which the generated serializer does not support (its element names are not part of the type); use a record"));

    [Fact]
    public Task JOBS015_and_JOBS010_System_Text_Json_attributes_the_generated_serializer_does_not_honour()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Text.Json;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;

            public sealed class UpperConverter : JsonConverter<string>
            {
                public override string Read(ref Utf8JsonReader reader, Type type, JsonSerializerOptions options) => reader.GetString()!;
                public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToUpperInvariant());
            }

            [Job("converter")]
            public partial record ConverterJob([property: JsonConverter(typeof(UpperConverter))] string {|#0:Name|});

            [Job("include")]
            public partial class IncludeJob
            {
                public int Visible { get; set; }
                [JsonInclude] public int {|#1:Hidden|} { get; private set; }
            }

            [Job("numbers")]
            public partial class NumbersJob { [JsonNumberHandling(JsonNumberHandling.WriteAsString)] public int {|#2:Count|} { get; set; } }

            [JsonPolymorphic]
            [JsonDerivedType(typeof(Square), "square")]
            public class Shape { public int Id { get; set; } }
            public sealed class Square : Shape { public int Side { get; set; } }

            [Job("polymorphic")]
            public partial record PolymorphicJob(Shape {|#3:Shape|});

            public enum Size { [JsonStringEnumMemberName("small")] Small, Large }

            [Job("enum-names")]
            public partial record EnumNamesJob(Size {|#4:Size|});

            // A string enum converter on the enum is what the generated serializer does anyway: fine.
            [JsonConverter(typeof(JsonStringEnumConverter))]
            public enum Color { Red, Green }

            [Job("string-enum")]
            public partial record StringEnumJob(Color Color);
            """,
            V.Diagnostic("JOBS015").WithLocation(0).WithMessage(
                "Job 'ConverterJob': [JsonConverter] on 'ConverterJob.Name' is not applied by the generated serializer, which would write the member its own way; " +
                "remove the attribute, or put the converter on a type of your own and name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]"),
            V.Diagnostic("JOBS015").WithLocation(1).WithMessage(
                "Job 'IncludeJob': [JsonInclude] on 'IncludeJob.Hidden' is not applied by the generated serializer, which carries only constructor parameters and properties with a public set or init accessor; " +
                "make the member settable or a constructor parameter"),
            V.Diagnostic("JOBS015").WithLocation(2).WithMessage(
                "Job 'NumbersJob': [JsonNumberHandling] on 'NumbersJob.Count' is not applied by the generated serializer, which writes numbers as JSON numbers; remove the attribute"),
            Jobs010(3, "PolymorphicJob", "Shape", "Shape",
                "'App.Shape' has [JsonPolymorphic] or [JsonDerivedType], but the generated serializer writes only the declared type's members (a derived instance would lose its own)"),
            Jobs010(4, "EnumNamesJob", "Size", "Size",
                "'App.Size' has members with [JsonStringEnumMemberName], but the generated serializer writes enum members by their C# names"));
}
