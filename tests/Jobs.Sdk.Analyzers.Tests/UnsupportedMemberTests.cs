using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

public class UnsupportedMemberTests
{
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
            V.Diagnostic("JOBS010").WithLocation(0).WithMessage(
                "Job 'Upload' cannot be serialized by the generated serializer: member 'Content' (type 'Stream'): " +
                "'System.IO.Stream' is abstract, static, a ref struct or object, which the generated serializer cannot create; " +
                "use a supported type or name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]"),
            V.Diagnostic("JOBS010").WithLocation(1).WithMessage(
                "Job 'Order' cannot be serialized by the generated serializer: member 'Lines[].Tags' (type 'Dictionary<int, string>'): " +
                "dictionaries must have string keys; use a supported type or name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]"));

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
}
