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

    private static string[] AttributesOf(IMethodSymbol method, string parameter)
        => [.. method.Parameters.Single(p => p.Name == parameter).GetAttributes().Select(a => a.AttributeClass!.ToDisplayString())];
}
