using System.Diagnostics.CodeAnalysis;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Sdk;

/// <summary>Configures jobs for a service collection: the driver, job handlers, workers and middleware.</summary>
public sealed class JobsBuilder
{
    internal JobsBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection being configured (for driver packages and extensions).</summary>
    public IServiceCollection Services { get; }

    internal Func<IServiceProvider, IJobDriver>? DriverFactory { get; private set; }
    internal List<Func<IServiceProvider, JobDefinition>> Definitions { get; } = [];
    /// <summary>Job name → the job type registered under it.</summary>
    internal Dictionary<string, Type> RegisteredJobs { get; } = new(StringComparer.Ordinal);
    internal bool WorkersAdded { get; private set; }
    internal Dictionary<string, QueueOptions> Queues { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Declares a queue this process serves (workers added by <see cref="AddWorkers"/> claim from every declared queue and
    /// from every queue a registered job type names), with its own settings. Declaring a queue twice configures it again.
    /// </summary>
    /// <example>
    /// <code>
    /// jobs.AddQueue("emails", q => q.Concurrency = 8).AddQueue("reports", q => q.Concurrency = 2);
    /// </code>
    /// </example>
    public JobsBuilder AddQueue(string name, Action<QueueOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        JobTextLimits.CheckQueueName(name, nameof(name));

        if (!Queues.TryGetValue(name, out var options))
        {
            Queues.Add(name, options = new QueueOptions(name));
        }

        configure?.Invoke(options);
        options.Validate();
        return this;
    }

    /// <summary>Uses the embedded in-memory driver (no persistence; for development, tests and single-process use).</summary>
    /// <exception cref="ArgumentException">The configured options are out of range (an empty queue name, a poll interval not greater than zero); the message names the option.</exception>
    public JobsBuilder UseInMemory(Action<InMemoryJobDriverOptions>? configure = null)
    {
        var options = new InMemoryJobDriverOptions();
        configure?.Invoke(options);
        options.Validate();
        return UseDriver(sp => new InMemoryJobDriver(options, sp.GetService<TimeProvider>() ?? TimeProvider.System)
        {
            ObserverLog = sp.GetService<ILoggerFactory>()?.CreateLogger<InMemoryJobDriver>() ?? (ILogger)NullLogger.Instance,
        });
    }

    /// <summary>Uses a driver created from the container (driver packages call this). Part of the experimental driver SPI.</summary>
    [Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
    public JobsBuilder UseDriver(Func<IServiceProvider, IJobDriver> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (DriverFactory is not null)
        {
            throw new InvalidOperationException("A job driver is already configured. Call UseInMemory or UsePostgres once per AddJobs.");
        }

        DriverFactory = factory;
        return this;
    }

    /// <summary>Registers <typeparamref name="THandler"/> (resolved from a new scope per job) for <typeparamref name="TJob"/>.</summary>
    public JobsBuilder AddJob<TJob, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        Action<JobRegistrationOptions>? configure = null)
        where TJob : IJob<TJob>
        where THandler : class, IJobHandler<TJob>
    {
        var options = Configure(configure);
        Register<TJob>();
        Services.TryAddScoped<THandler>();
        Definitions.Add(_ => JobDefinition<TJob>.ForHandler<THandler>(options.RetryStrategy, options.Timeout));
        return this;
    }

    /// <summary>Registers a delegate handler for <typeparamref name="TJob"/>.</summary>
    public JobsBuilder AddJob<TJob>(Func<TJob, JobContext, CancellationToken, Task> handler, Action<JobRegistrationOptions>? configure = null)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(handler);
        var options = Configure(configure);
        Register<TJob>();
        Definitions.Add(_ => new JobDefinition<TJob>((_, job, ctx, ct) => handler(job, ctx, ct), options.RetryStrategy, options.Timeout));
        return this;
    }

    /// <summary>Runs workers in this process (an <c>IHostedService</c>).</summary>
    public JobsBuilder AddWorkers(Action<JobWorkerOptions>? configure = null)
    {
        if (configure is not null)
        {
            Services.Configure(configure);
        }

        if (!WorkersAdded)
        {
            WorkersAdded = true;
            Services.AddSingleton(sp => new JobWorker(
                sp.GetRequiredService<JobsRuntime>(),
                sp.GetRequiredService<IServiceScopeFactory>(),
                sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobWorkerOptions>>(),
                sp.GetService<Microsoft.Extensions.Logging.ILogger<JobWorker>>(),
                Queues.Values.ToArray()));
            Services.AddHostedService(sp => sp.GetRequiredService<JobWorker>());
        }

        return this;
    }

    /// <summary>Adds a middleware instance. Middleware runs in registration order (first is outermost around handlers).</summary>
    public JobsBuilder AddMiddleware(IJobMiddleware middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        Services.AddSingleton(middleware);
        return this;
    }

    /// <summary>Adds a middleware type resolved from the container as a singleton.</summary>
    public JobsBuilder AddMiddleware<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TMiddleware>()
        where TMiddleware : class, IJobMiddleware
    {
        Services.AddSingleton<IJobMiddleware, TMiddleware>();
        return this;
    }

    /// <summary>Configures queue-wide defaults (the default retry strategy).</summary>
    public JobsBuilder ConfigureQueue(Action<JobQueueOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }

    private void Register<TJob>() where TJob : IJob<TJob>
    {
        // A generated job's name was checked by the analyzer (JOBS007); a hand-written one is checked here, at start-up.
        JobNameRules.Check<TJob>();
        if (!RegisteredJobs.TryAdd(TJob.JobName, typeof(TJob)))
        {
            throw RegisteredElsewhere<TJob>() ?? new InvalidOperationException(
                $"A handler for job '{TJob.JobName}' ({typeof(TJob).FullName}) is already registered. Register each job once.");
        }
    }

    /// <summary>
    /// The error for a job name already registered for another job type (two assemblies' <c>[Job("same")]</c>: each
    /// one's jobs would run the other's handler); <see langword="null"/> when the name is free or holds <typeparamref name="TJob"/>.
    /// </summary>
    internal InvalidOperationException? RegisteredElsewhere<TJob>() where TJob : IJob<TJob>
        => RegisteredJobs.TryGetValue(TJob.JobName, out var registered) && registered != typeof(TJob)
            ? new InvalidOperationException(
                $"Job name '{TJob.JobName}' is declared by two job types: {registered.FullName} (in {registered.Assembly.GetName().Name}, registered first) " +
                $"and {typeof(TJob).FullName} (in {typeof(TJob).Assembly.GetName().Name}). The name is what is stored with each queued job " +
                "and finds its handler, so it must belong to one type: rename one [Job(\"...\")] (jobs already queued under the old name " +
                "keep it), or register only one of the two.")
            : null;

    private static JobRegistrationOptions Configure(Action<JobRegistrationOptions>? configure)
    {
        var options = new JobRegistrationOptions();
        configure?.Invoke(options);
        return options;
    }
}
