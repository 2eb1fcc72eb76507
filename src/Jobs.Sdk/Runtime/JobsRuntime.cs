using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Sdk;

/// <summary>
/// The core every Jobs.Sdk component of one queue shares: the driver, the job registry, the queue options, the time
/// provider, the middleware pipeline and the retry policy. Registered as a singleton by <c>AddJobs</c>;
/// <see cref="JobQueue"/> (producer), <see cref="JobWorker"/> (consumer), <see cref="JobScheduler"/> and
/// <see cref="JobsHealthCheck"/> take it. It also owns the one push path (<c>JobsRuntime.Push.cs</c>).
/// </summary>
internal sealed partial class JobsRuntime
{
    public JobsRuntime(IJobDriver driver, JobRegistry registry, JobQueueOptions options, TimeProvider timeProvider,
        IEnumerable<IJobMiddleware> middleware, ILoggerFactory? loggerFactory = null, JobsMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(middleware);
        Driver = driver;
        Registry = registry;
        Options = options;
        TimeProvider = timeProvider;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Pipeline = new MiddlewarePipeline(middleware, GuardedLogger.For(LoggerFactory.CreateLogger<MiddlewarePipeline>()));
        RetryPolicy = new JobRetryPolicy(registry, options);
        Metrics = metrics ?? JobsMetrics.Shared;
        JobsInstrumentation.TrackQueue(driver, TimeProvider, GuardedLogger.For(LoggerFactory.CreateLogger<JobStateCountSampler>()), Metrics);
    }

    /// <summary>The runtime of another queue of the same store: everything shared but the (view of the) driver.</summary>
    private JobsRuntime(JobsRuntime root, IJobDriver driver)
    {
        _root = root;
        Driver = driver;
        Registry = root.Registry;
        Options = root.Options;
        TimeProvider = root.TimeProvider;
        LoggerFactory = root.LoggerFactory;
        Pipeline = root.Pipeline;
        RetryPolicy = root.RetryPolicy;
        Metrics = root.Metrics;
        JobsInstrumentation.TrackQueue(driver, TimeProvider, GuardedLogger.For(LoggerFactory.CreateLogger<JobStateCountSampler>()), Metrics);
    }

    public IJobDriver Driver { get; }

    public JobRegistry Registry { get; }

    public JobQueueOptions Options { get; }

    public TimeProvider TimeProvider { get; }

    public ILoggerFactory LoggerFactory { get; }

    public MiddlewarePipeline Pipeline { get; }

    public JobRetryPolicy RetryPolicy { get; }

    /// <summary>The instruments this runtime counts into: its host's meter (<c>IMeterFactory</c>), else the process's shared one.</summary>
    public JobsMetrics Metrics { get; }

    public string QueueName => Driver.QueueName;

    /// <summary><c>ExceptionType: message</c>, cut to <see cref="JobQueueOptions.MaxErrorLength"/> (at least 64).</summary>
    public string FormatError(Exception error)
    {
        var text = $"{error.GetType().FullName}: {error.Message}";
        var max = Math.Max(Options.MaxErrorLength, 64);
        return text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
    }

    /// <summary>
    /// <paramref name="error"/> as <see cref="Exception.ToString"/> renders it (type, message, stack trace, inner exceptions;
    /// a message longer than <see cref="JobQueueOptions.MaxErrorLength"/> cut as in <see cref="FormatError"/>), storable
    /// (<see cref="JobErrorText"/>) and cut on a character boundary to <see cref="JobQueueOptions.MaxStackTraceLength"/>;
    /// <see langword="null"/> when that is 0 or the exception was never thrown and has no inner exception (the text would
    /// only repeat <see cref="FormatError"/>). Called for failed attempts only.
    /// </summary>
    public string? FormatStackTrace(Exception error)
    {
        var max = Math.Min(Options.MaxStackTraceLength, JobErrorText.MaxLength);
        if (max <= 0 || (StackTraceOf(error) is null && error.InnerException is null))
        {
            return null;
        }

        var text = error.ToString();
        var head = $"{error.GetType().FullName}: {error.Message}";
        if (text.Length > max && head.Length > Math.Max(Options.MaxErrorLength, 64) && text.StartsWith(head, StringComparison.Ordinal))
        {
            // A huge message would crowd out the frames: keep it as long as Error keeps it.
            text = string.Concat(FormatError(error), text.AsSpan(head.Length));
        }

        return text.Length <= max
            ? JobErrorText.Sanitize(text)
            : string.Concat(JobErrorText.Sanitize(text, Math.Max(max - 1, 0)), "…");
    }

    /// <summary>
    /// <paramref name="error"/>'s <see cref="Exception.StackTrace"/>, or <see langword="null"/> when its getter throws (an
    /// exception type overriding it, whose own <see cref="Exception.ToString"/> does not read it): the attempt is recorded
    /// with the handler's exception, not the getter's.
    /// </summary>
    private static string? StackTraceOf(Exception error)
    {
        try
        {
            return error.StackTrace;
        }
        catch (Exception)
        {
            return null;
        }
    }
}
