using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Caller-info attributes on a job's constructor parameters are copied to the push overload taking those parameters, so
/// <c>client.PushX(...)</c> records the pusher's member, file and line as <c>new X(...)</c> would, not the defaults.
/// </summary>
public class CallerInfoPushGeneratorTests
{
    [Fact]
    public void The_push_overload_taking_the_constructor_parameters_keeps_their_caller_info_attributes()
    {
        var output = GeneratorHarness.Run("""
            using System.Runtime.CompilerServices;
            using Jobs.Sdk;
            namespace App;
            [Job("audited")]
            public partial record Audited(int Id, [CallerMemberName] string Caller = "", [CallerFilePath] string File = "",
                [CallerLineNumber] int Line = 0);
            public static class Pusher
            {
                public static object Push(JobQueue queue) => queue.PushAuditedAsync(1);
            }
            """).AssertClean();

        var extensions = output.Compilation.GetTypeByMetadataName("App.AuditedJobExtensions")!;
        var overloads = extensions.GetMembers("PushAuditedAsync").OfType<IMethodSymbol>()
            .Where(m => m.Parameters.Any(p => p.Name == "Caller"))
            .ToList();
        Assert.Equal(2, overloads.Count);
        foreach (var overload in overloads)
        {
            Assert.Equal(["System.Runtime.CompilerServices.CallerMemberNameAttribute"], AttributesOf(overload, "Caller"));
            Assert.Equal(["System.Runtime.CompilerServices.CallerFilePathAttribute"], AttributesOf(overload, "File"));
            Assert.Equal(["System.Runtime.CompilerServices.CallerLineNumberAttribute"], AttributesOf(overload, "Line"));
            Assert.Empty(AttributesOf(overload, "Id"));
        }

        // What a push stores: the compiler passes the pusher's member, file and line, not the parameters' defaults.
        var tree = output.Compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        var call = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>().Single();
        var invocation = (Microsoft.CodeAnalysis.Operations.IInvocationOperation)output.Compilation.GetSemanticModel(tree).GetOperation(call)!;
        object? ArgumentOf(string name) => invocation.Arguments.Single(a => a.Parameter!.Name == name).Value.ConstantValue.Value;
        Assert.Equal("Push", ArgumentOf("Caller"));
        Assert.Equal("Source0.cs", ArgumentOf("File"));
        Assert.Equal(9, ArgumentOf("Line"));
    }

    [Fact]
    public void The_push_overload_keeps_caller_argument_expressions_naming_another_constructor_parameter()
    {
        // [CallerArgumentExpression] names a parameter: copied only when that parameter is one of the overload's own
        // constructor parameters. 'queue' is the overload's receiver, not the constructor's (the user's constructor
        // ignores it: CS8963), and a self-reference has no effect (CS8965): copying either would change what is stored.
        var output = GeneratorHarness.Run("""
            using System.Runtime.CompilerServices;
            using Jobs.Sdk;
            namespace App;
            #pragma warning disable CS8963, CS8965
            [Job("checked")]
            public partial record Checked(int Value, [CallerArgumentExpression("Value")] string Expression = "",
                [CallerArgumentExpression("queue")] string Receiver = "", [CallerArgumentExpression("Self")] string Self = "",
                [CallerArgumentExpression("class")] string Keyword = "", int @class = 0);
            #pragma warning restore CS8963, CS8965
            public static class Pusher
            {
                public static object Push(JobQueue queue, int x) => queue.PushCheckedAsync(x * 2 + 1, @class: x  -  3);
                public static object New(int x) => new Checked(x * 2 + 1, @class: x  -  3);
            }
            """).AssertClean();

        var extensions = output.Compilation.GetTypeByMetadataName("App.CheckedJobExtensions")!;
        var overloads = extensions.GetMembers("PushCheckedAsync").OfType<IMethodSymbol>()
            .Where(m => m.Parameters.Any(p => p.Name == "Expression"))
            .ToList();
        Assert.Equal(2, overloads.Count);
        foreach (var overload in overloads)
        {
            Assert.Equal(["System.Runtime.CompilerServices.CallerArgumentExpressionAttribute"], AttributesOf(overload, "Expression"));
            Assert.Equal("Value", overload.Parameters.Single(p => p.Name == "Expression").GetAttributes().Single().ConstructorArguments.Single().Value);
            Assert.Empty(AttributesOf(overload, "Receiver"));
            Assert.Empty(AttributesOf(overload, "Self"));
            Assert.Equal(["System.Runtime.CompilerServices.CallerArgumentExpressionAttribute"], AttributesOf(overload, "Keyword"));
        }

        // What a push stores: the compiler passes the pusher's argument text, as 'new Checked(...)' does with the same arguments.
        var tree = output.Compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        var model = output.Compilation.GetSemanticModel(tree);
        var push = (Microsoft.CodeAnalysis.Operations.IInvocationOperation)model.GetOperation(
            tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>().Single())!;
        var create = (Microsoft.CodeAnalysis.Operations.IObjectCreationOperation)model.GetOperation(
            tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ObjectCreationExpressionSyntax>().Single())!;
        object?[] Passed(IEnumerable<Microsoft.CodeAnalysis.Operations.IArgumentOperation> arguments)
            => [.. new[] { "Expression", "Receiver", "Self", "Keyword" }.Select(n => arguments.Single(a => a.Parameter!.Name == n).Value.ConstantValue.Value)];
        Assert.Equal(["x * 2 + 1", "", "", "x  -  3"], Passed(create.Arguments));
        Assert.Equal(Passed(create.Arguments), Passed(push.Arguments));
    }

    private static string[] AttributesOf(IMethodSymbol method, string parameter)
        => [.. method.Parameters.Single(p => p.Name == parameter).GetAttributes().Select(a => a.AttributeClass!.ToDisplayString())];
}
