using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Jobs.Sdk.Benchmarks.EndToEnd;
using Jobs.Sdk.Benchmarks.Micro;

namespace Jobs.Sdk.Benchmarks;

/// <summary>
/// Entry point. The first argument is a verb; everything after it goes to that verb.
/// <list type="bullet">
/// <item><c>micro [BenchmarkDotNet args]</c>: microbenchmarks (serializer vs System.Text.Json), e.g. <c>micro --job short --filter *</c>.</item>
/// <item>no verb (<c>--workload W --jobs N --concurrency C --connection "..."</c>): the end-to-end benchmark against
/// PostgreSQL (see README.md), one JSON line on stdout.</item>
/// </list>
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, (string Help, Func<string[], int> Run)> Verbs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["micro"] = ("BenchmarkDotNet microbenchmarks; remaining arguments go to BenchmarkDotNet (default: all benchmarks).", RunMicro),
    };

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0].StartsWith("--", StringComparison.Ordinal))
        {
            return EndToEndBenchmark.RunAsync(args).GetAwaiter().GetResult();
        }

        if (args.Length == 0 || !Verbs.TryGetValue(args[0], out var verb))
        {
            Console.Error.WriteLine("usage: Jobs.Sdk.Benchmarks <verb> [args]  |  Jobs.Sdk.Benchmarks --workload W --jobs N --concurrency C --connection \"...\"");
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
        var config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
