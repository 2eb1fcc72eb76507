using Jobs.Sdk.Benchmarks;
using Jobs.Sdk.Benchmarks.EndToEnd;

// `micro` runs the BenchmarkDotNet microbenchmarks; anything else is the end-to-end benchmark (see README.md).
return args is ["micro", ..]
    ? Micro.Run(args[1..])
    : await EndToEndBenchmark.RunAsync(args).ConfigureAwait(false);
