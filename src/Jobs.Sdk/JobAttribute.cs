namespace Jobs.Sdk;

/// <summary>
/// Marks a <c>partial</c> class, record or struct as a job. The Jobs.Sdk source generator makes the type
/// implement <see cref="IJob{TSelf}"/> (name, AOT-safe JSON serializer) and emits typed
/// <c>Push{Type}Async</c> and <c>Add{Type}</c> methods for it.
/// </summary>
/// <example>
/// <code>
/// [Job("send-email", MaxAttempts = 5, TimeoutSeconds = 30)]
/// public partial record SendEmail(string To, string Subject);
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class JobAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">
    /// The stable name stored with every queued job and used to find its handler. Renaming the CLR type is safe;
    /// renaming this string strands jobs already queued under the old name.
    /// </param>
    public JobAttribute(string name) => Name = name;

    /// <summary>The stable job name (1–255 characters, no control characters).</summary>
    public string Name { get; }

    /// <summary>
    /// Total attempts (first run included) before the job is marked failed; at least 1 when set. Leave it unset to
    /// use the queue's retry strategy (4 attempts with exponential backoff unless configured). Setting it to
    /// <c>0</c> or a negative value is a compile-time error (JOBS008): write nothing rather than <c>0</c>.
    /// </summary>
    public int MaxAttempts { get; set; }

    /// <summary>
    /// Per-attempt timeout in seconds; from 1 to <see cref="MaxTimeoutSeconds"/> when set. Leave it unset for no
    /// timeout. <c>0</c>, negative values and values above <see cref="MaxTimeoutSeconds"/> are a compile-time error (JOBS008).
    /// </summary>
    public int TimeoutSeconds { get; set; }

    /// <summary>
    /// The longest timeout a <see cref="System.Threading.CancellationTokenSource"/> accepts, in whole seconds
    /// (<see cref="uint.MaxValue"/> − 1 milliseconds, about 49.7 days).
    /// </summary>
    public const int MaxTimeoutSeconds = 4_294_967;

    /// <summary>
    /// An optional <c>System.Text.Json.Serialization.JsonSerializerContext</c> used for member types the
    /// generated serializer does not handle itself. Resolved through its <c>JsonTypeInfo</c>, so it stays AOT-safe.
    /// </summary>
    public Type? JsonContext { get; set; }

    /// <summary>
    /// The queue jobs of this type go to unless a push says otherwise (<see cref="JobOptions.Queue"/>). Leave it unset for
    /// the default queue (the driver's <c>QueueName</c>, <c>"default"</c> unless configured). Workers started by
    /// <c>AddWorkers</c> serve every queue a registered job type names, and every queue declared with <c>AddQueue</c>.
    /// </summary>
    public string? Queue { get; set; }

    /// <summary>
    /// At most one job of this type with the same unique key is waiting or running in its queue: a push that finds one
    /// inserts nothing and returns the existing job's id (<see cref="JobQueue.TryPushAsync{TJob}(TJob, JobOptions?, CancellationToken)"/> tells which happened).
    /// The key is the members marked <see cref="UniqueKeyAttribute"/>, or the whole payload when none is marked.
    /// Enforced by the store (a unique index), so concurrent pushers of one key produce exactly one job.
    /// </summary>
    public bool Unique { get; set; }

    /// <summary>
    /// With <see cref="Unique"/>: seconds the key still holds after the job finished (completed, failed or cancelled).
    /// <c>0</c> (the default): only while the job is unfinished. Without <see cref="Unique"/>, or negative, it is a
    /// compile-time error (JOBS020).
    /// </summary>
    public int UniqueFor { get; set; }

    /// <summary>
    /// At most this many jobs of this type with the same concurrency key run at once in their queue, across every process
    /// and machine; per key, jobs start in push order (a job waits while <c>ConcurrencyLimit</c> jobs of its key pushed
    /// before it are unfinished, including ones waiting for a retry or delayed). The key is the members marked
    /// <see cref="ConcurrencyKeyAttribute"/> (scoped by the job name: <c>"import-file:" + member text</c>), or, when none
    /// is marked, the job name itself (a limit for all jobs of the type). <see cref="JobOptions.ConcurrencyKey"/> overrides
    /// the key of one push, used as given (so job types can share one key). Leave it unset for no limit; <c>0</c> or a
    /// negative value is a compile-time error (JOBS022), and so is a <see cref="ConcurrencyKeyAttribute"/> member on a
    /// type without it (JOBS023).
    /// </summary>
    /// <example>
    /// <code>
    /// [Job("import-file", ConcurrencyLimit = 1)]
    /// public partial record ImportFile([property: ConcurrencyKey] string TenantId, string Path);
    /// </code>
    /// </example>
    public int ConcurrencyLimit { get; set; }
}
