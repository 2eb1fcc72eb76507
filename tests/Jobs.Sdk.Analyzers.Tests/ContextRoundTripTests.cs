using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS026: a member the job's JsonSerializerContext serializes but System.Text.Json cannot give back as pushed. Pushed
/// through real PostgreSQL (the audit's probe), an <c>object</c> member reached the handler as a <c>JsonElement</c>, an
/// interface or abstract member was written with the declared type's properties only and every such job failed to decode
/// on the worker ("Deserialization of interface or abstract types is not supported"), and a <c>BigInteger</c> was written
/// as its get-only properties and read back as 0; all built without a word.
/// </summary>
public class ContextRoundTripTests
{
    private const string Context = """

        // What System.Text.Json's generator would complete; written out because it does not run here.
        public partial class JobsJsonContext : JsonSerializerContext
        {
            public JobsJsonContext() : base(null) { }
            protected override System.Text.Json.JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override System.Text.Json.Serialization.Metadata.JsonTypeInfo? GetTypeInfo(Type type) => null;
        }
        """;

    private static Microsoft.CodeAnalysis.Testing.DiagnosticResult Jobs026(int location, string job, string member, string type, string reason)
        => V.Diagnostic("JOBS026").WithLocation(location).WithMessage(
            $"Job '{job}': member '{member}' (type '{type}') goes through the JsonSerializerContext, but {reason}");

    [Fact]
    public Task JOBS026_object_interface_abstract_and_BigInteger_members_through_a_JsonContext()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Numerics;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;

            public interface IShape { double Area { get; } }
            public abstract record Animal(string Name);

            [Job("anything", JsonContext = typeof(JobsJsonContext))]
            public partial record AnythingJob(object {|#0:Value|}, string Label);

            [Job("shape", JsonContext = typeof(JobsJsonContext))]
            public partial record ShapeJob(IShape {|#1:Shape|});

            [Job("pet", JsonContext = typeof(JobsJsonContext))]
            public partial record PetJob(Animal {|#2:Pet|});

            [Job("big", JsonContext = typeof(JobsJsonContext))]
            public partial record BigJob(BigInteger {|#3:Amount|});

            [Job("bag", JsonContext = typeof(JobsJsonContext))]
            public partial record BagJob(List<Dictionary<int, object>> {|#4:Bags|});

            [Job("shapes", JsonContext = typeof(JobsJsonContext))]
            public partial record ShapesJob(List<IShape> {|#5:Shapes|});

            [Job("pair", JsonContext = typeof(JobsJsonContext))]
            public partial record PairJob((int Id, string Name) {|#6:Pair|});
            """ + Context,
            Jobs026(0, "AnythingJob", "Value", "object",
                "System.Text.Json writes an 'object' as the value's runtime type and reads it back as a JsonElement, so the handler would not get the pushed value; declare the member as the value's type (or as JsonElement to carry any JSON)"),
            Jobs026(1, "ShapeJob", "Shape", "IShape",
                "System.Text.Json writes only the properties of the declared interface 'App.IShape' and cannot create one when reading, so every such job would fail to decode on the worker; declare a concrete type, or list the implementations with [JsonPolymorphic] and [JsonDerivedType] on 'App.IShape'"),
            Jobs026(2, "PetJob", "Pet", "Animal",
                "System.Text.Json writes only the properties of the declared abstract class 'App.Animal' and cannot create one when reading, so every such job would fail to decode on the worker; declare a concrete type, or list the implementations with [JsonPolymorphic] and [JsonDerivedType] on 'App.Animal'"),
            Jobs026(3, "BigJob", "Amount", "BigInteger",
                "System.Text.Json has no converter for 'System.Numerics.BigInteger': it writes its get-only properties and reads back 0; carry it as a string (ToString/Parse) or name a converter for it in the context's [JsonSourceGenerationOptions(Converters = ...)]"),
            Jobs026(4, "BagJob", "Bags[]", "Dictionary<int, object>",
                "System.Text.Json writes an 'object' as the value's runtime type and reads it back as a JsonElement, so the handler would not get the pushed value; declare the member as the value's type (or as JsonElement to carry any JSON)"),
            Jobs026(5, "ShapesJob", "Shapes[]", "IShape",
                "System.Text.Json writes only the properties of the declared interface 'App.IShape' and cannot create one when reading, so every such job would fail to decode on the worker; declare a concrete type, or list the implementations with [JsonPolymorphic] and [JsonDerivedType] on 'App.IShape'"),
            Jobs026(6, "PairJob", "Pair", "(int Id, string Name)",
                "System.Text.Json writes a tuple's elements (fields) only with IncludeFields, so '(int Id, string Name)' would be written as {} and read back empty; use a record, or set IncludeFields = true in the context's [JsonSourceGenerationOptions]"));

    [Fact]
    public Task JOBS026_not_reported_for_polymorphic_types_collections_JSON_values_or_a_context_with_converters()
        => V.AnalyzerAsync("""
            using System;
            using System.Collections.Generic;
            using System.Numerics;
            using System.Text.Json;
            using System.Text.Json.Nodes;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;

            [JsonDerivedType(typeof(Circle), "circle")]
            public interface IShape { double Area { get; } }
            public sealed record Circle(double Radius) : IShape { public double Area => Radius * Radius * Math.PI; }

            [JsonPolymorphic]
            [JsonDerivedType(typeof(Dog), "dog")]
            public abstract record Animal(string Name);
            public sealed record Dog(string Name) : Animal(Name);

            [Job("fine", JsonContext = typeof(JobsJsonContext))]
            public partial record FineJob(IShape Shape, Animal Pet, JsonElement Raw, JsonNode? Node, ISet<int> Set,
                IReadOnlySet<string> Names, Dictionary<int, string> ByNumber, Int128 Large, Half Small);

            [Job("converted", JsonContext = typeof(ConvertingContext))]
            public partial record ConvertedJob(BigInteger Amount, (int Id, string Name) Pair);

            public sealed class BigIntegerConverter : JsonConverter<BigInteger>
            {
                public override BigInteger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => BigInteger.Parse(reader.GetString()!);
                public override void Write(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
            }

            [JsonSourceGenerationOptions(IncludeFields = true, Converters = new[] { typeof(BigIntegerConverter) })]
            public partial class ConvertingContext : JsonSerializerContext
            {
                public ConvertingContext() : base(null) { }
                protected override JsonSerializerOptions? GeneratedSerializerOptions => null;
                public override System.Text.Json.Serialization.Metadata.JsonTypeInfo? GetTypeInfo(Type type) => null;
            }
            """ + Context);
}
