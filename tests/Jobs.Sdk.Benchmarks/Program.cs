using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Jobs.Sdk.Benchmarks.Micro;

namespace Jobs.Sdk.Benchmarks;

/// <summary>
/// Entry point. The first argument is a verb; everything after it goes to that verb.
/// <list type="bullet">
/// <item><c>micro [BenchmarkDotNet args]</c>: microbenchmarks (serializer vs System.Text.Json), e.g. <c>micro --job short --filter *</c>.</item>
/// </list>
/// Add further verbs (an end-to-end <c>e2e --workload ...</c> run) as new cases in <see cref="Verbs"/>.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, (string Help, Func<string[], int> Run)> Verbs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["micro"] = ("BenchmarkDotNet microbenchmarks; remaining arguments go to BenchmarkDotNet (default: all benchmarks).", RunMicro),
        // ["e2e"] = ("End-to-end throughput against a driver: --workload <name> ...", E2E.Run),
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Verbs.TryGetValue(args[0], out var verb))
        {
            Console.Error.WriteLine("usage: Jobs.Sdk.Benchmarks <verb> [args]");
            foreach (var (name, (help, _)) in Verbs)
            {
                Console.Error.WriteLine($"  {name,-8} {help}");
            }

            return args.Length == 0 ? 1 : 2;
        }

        return verb.Run(args[1..]);
    }

    private static int RunMicro(string[] args)
    {
        if (!args.Contains("--filter", StringComparer.Ordinal))
        {
            args = [.. args, "--filter", "*"];
        }

        // Shared 2-core machines can take minutes to build the generated benchmark project: allow it.
        var config = DefaultConfig.Instance.WithBuildTimeout(TimeSpan.FromMinutes(10));
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
