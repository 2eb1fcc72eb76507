namespace Jobs.Sdk.Benchmarks;

/// <summary>The `micro` verb: BenchmarkDotNet microbenchmarks (serializer); filled in on the generators branch.</summary>
internal static class Micro
{
    public static int Run(string[] args)
    {
        _ = args;
        Console.Error.WriteLine("The micro benchmarks are not part of this build.");
        return 2;
    }
}
