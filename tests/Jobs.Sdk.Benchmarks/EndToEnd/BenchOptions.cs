using System.Globalization;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>The end-to-end command line (see README.md). Unknown arguments are errors.</summary>
internal sealed class BenchOptions
{
    public static readonly string[] Workloads = ["enqueue", "enqueue_batch", "drain", "latency", "idle", "enqueue_concurrent", "cleanup"];

    public string Workload { get; private set; } = "";
    public int Jobs { get; private set; }
    public int Concurrency { get; private set; } = 16;
    public string Connection { get; private set; } = "";
    public int Processes { get; private set; } = 1;
    public long RetainedHistory { get; private set; }
    public long Delayed { get; private set; }
    public int Pushers { get; private set; } = 16;

    /// <summary><c>enqueue_concurrent</c>: the pushers' total offered rate (pushes/s, an open-loop schedule); 0 = as fast as they can.</summary>
    public int PushRate { get; private set; }
    public int Seconds { get; private set; } = 10;
    public bool NoWorker { get; private set; }
    public bool PollOnly { get; private set; }

    /// <summary><c>latency</c>: warm up with one round of 50 spaced jobs only (the method before the twenty-seventh stop), not until the JIT is quiet.</summary>
    public bool ColdLatency { get; private set; }
    public bool ReportRss { get; private set; }
    public bool Explain { get; private set; }
    public bool FastWorkerCommits { get; private set; }
    public int Prefetch { get; private set; }
    public int? PollIntervalMs { get; private set; }
    public int BatchSize { get; private set; } = 1000;
    public int? GlobalConcurrency { get; private set; }
    public int ConcurrencyKeys { get; private set; }
    public int? ConcurrencyLimit { get; private set; }

    /// <summary><c>enqueue_concurrent</c>: warm-up rounds before the measured pushes, each <see cref="Pushers"/> concurrent pushers × 10 jobs, drained by the worker (0, the default: only the single pusher's sequential warm-up).</summary>
    public int PusherWarmUp { get; private set; }

    /// <summary><c>drain</c>: jobs pushed and drained by the throwaway warm-up worker before the measured drain.</summary>
    public int WarmUp { get; private set; } = 200;

    /// <summary><c>drain</c>: the least number of warm-up rounds (each pushes and drains <see cref="WarmUp"/> jobs, then waits 250 ms); rounds go on, up to 30, until two in a row compile no method, and never stop before 8.</summary>
    public int WarmUpRounds { get; private set; } = 1;

    // Hidden: a child worker process of a multi-process drain.
    public bool Worker { get; private set; }
    public string? Schema { get; private set; }
    public string? Results { get; private set; }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Missing value after {a}.");
            int NextInt() => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v : throw new ArgumentException($"{a} expects an integer, got '{args[i]}'.");
            switch (a)
            {
                case "--workload": o.Workload = Next(); break;
                case "--jobs": o.Jobs = NextInt(); break;
                case "--concurrency": o.Concurrency = NextInt(); break;
                case "--connection": o.Connection = Next(); break;
                case "--processes": o.Processes = NextInt(); break;
                case "--retained-history": o.RetainedHistory = NextInt(); break;
                case "--delayed": o.Delayed = NextInt(); break;
                case "--pushers": o.Pushers = NextInt(); break;
                case "--push-rate": o.PushRate = NextInt(); break;
                case "--seconds": o.Seconds = NextInt(); break;
                case "--no-worker": o.NoWorker = true; break;
                case "--poll-interval-ms": o.PollIntervalMs = NextInt(); break;
                case "--poll-only": o.PollOnly = true; break;
                case "--cold-latency": o.ColdLatency = true; break;
                case "--report-rss": o.ReportRss = true; break;
                case "--explain": o.Explain = true; break;
                case "--fast-worker-commits": o.FastWorkerCommits = true; break;
                case "--prefetch": o.Prefetch = NextInt(); break;
                case "--global-concurrency": o.GlobalConcurrency = NextInt(); break;
                case "--concurrency-keys": o.ConcurrencyKeys = NextInt(); break;
                case "--concurrency-limit": o.ConcurrencyLimit = NextInt(); break;
                case "--warmup": o.WarmUp = NextInt(); break;
                case "--warmup-rounds": o.WarmUpRounds = NextInt(); break;
                case "--pusher-warmup": o.PusherWarmUp = NextInt(); break;
                case "--worker": o.Worker = true; break;
                case "--schema": o.Schema = Next(); break;
                case "--results": o.Results = Next(); break;
                default: throw new ArgumentException($"Unknown argument '{a}'.");
            }
        }

        if (o.Connection.Length == 0)
        {
            throw new ArgumentException("--connection \"<npgsql connection string>\" is required.");
        }

        if (!o.Worker && !Workloads.Contains(o.Workload))
        {
            throw new ArgumentException($"--workload must be one of {string.Join(", ", Workloads)}.");
        }

        if (!o.Worker && o.Workload is not ("latency" or "idle" or "cleanup") && o.Jobs < 1)
        {
            throw new ArgumentException("--jobs N (N >= 1) is required.");
        }

        if (o.Concurrency < 1 || o.Processes < 1 || o.Pushers < 1 || o.Seconds < 1 || o.RetainedHistory < 0 || o.Delayed < 0 || o.PushRate < 0 || o.PusherWarmUp < 0 || o.PollIntervalMs is < 1 || o.Prefetch < 0 || o.GlobalConcurrency is < 1 || o.ConcurrencyKeys < 0 || o.ConcurrencyLimit is < 1 || o.WarmUp < 1 || o.WarmUpRounds < 1)
        {
            throw new ArgumentException("--concurrency, --processes, --pushers, --seconds, --poll-interval-ms, --global-concurrency, --warmup and --warmup-rounds must be >= 1; --retained-history, --delayed, --push-rate, --pusher-warmup and --prefetch >= 0.");
        }

        if (o.Worker && (o.Schema is null || o.Results is null))
        {
            throw new ArgumentException("--worker needs --schema and --results.");
        }

        var batch = Environment.GetEnvironmentVariable("BENCH_BATCH_SIZE");
        if (!string.IsNullOrEmpty(batch))
        {
            o.BatchSize = int.TryParse(batch, NumberStyles.Integer, CultureInfo.InvariantCulture, out var b) && b >= 1
                ? b : throw new ArgumentException($"BENCH_BATCH_SIZE must be a positive integer, got '{batch}'.");
        }

        return o;
    }
}
