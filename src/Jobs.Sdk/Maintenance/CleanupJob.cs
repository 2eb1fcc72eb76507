using System.Globalization;
using System.Text.Json;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// The built-in job behind <see cref="JobSchedule.AddCleanup"/>: one cleanup pass over the queue that runs it. Stored under the
/// per-queue name <c>jobs.cleanup:&lt;queue name&gt;</c> with one attempt; its payload is <see cref="CleanupOptions"/> as JSON,
/// written and read by hand (no reflection).
/// </summary>
internal sealed class CleanupJob : IJob<CleanupJob>
{
    public const string NamePrefix = "jobs.cleanup";

    private static readonly (string Name, JobState State)[] States =
    [
        ("pending", JobState.Pending),
        ("processing", JobState.Processing),
        ("retrying", JobState.Retrying),
        ("completed", JobState.Completed),
        ("failed", JobState.Failed),
        ("cancelled", JobState.Cancelled),
        ("paused", JobState.Paused),
    ];

    public CleanupJob(CleanupOptions options) => Options = options;

    public CleanupOptions Options { get; }

    /// <summary>The type-level name; stored records carry <see cref="NameFor"/> instead.</summary>
    public static string JobName => NamePrefix;

    public static int? MaxAttempts => 1;

    /// <summary>The stored job name for <paramref name="queueName"/>.</summary>
    public static string NameFor(string queueName) => $"{NamePrefix}:{queueName}";

    public static void Serialize(Utf8JsonWriter writer, CleanupJob job)
    {
        writer.WriteStartObject();
        foreach (var (name, state) in States)
        {
            var action = job.Options.For(state);
            if (action.Kind == CleanupActionKind.DoNothing)
            {
                continue;
            }

            writer.WriteStartObject(name);
            writer.WriteString("action", action.Kind == CleanupActionKind.Remove ? "remove" : "rerun");
            if (action.MaxAge is { } maxAge)
            {
                writer.WriteString("maxAge", maxAge.ToString("c", CultureInfo.InvariantCulture));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    public static CleanupJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        var options = new CleanupOptions();
        Read(ref reader, JsonTokenType.StartObject, null);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.GetString()!;
            var state = Array.FindIndex(States, s => s.Name == member);
            if (state < 0)
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            var action = ReadAction(ref reader, member);
            options = States[state].State switch
            {
                JobState.Pending => options with { PendingJobs = action },
                JobState.Processing => options with { ProcessingJobs = action },
                JobState.Retrying => options with { RetryingJobs = action },
                JobState.Completed => options with { CompletedJobs = action },
                JobState.Failed => options with { FailedJobs = action },
                JobState.Cancelled => options with { CancelledJobs = action },
                _ => options with { PausedJobs = action },
            };
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            throw new JobDecodeException(NamePrefix, null, null, $"expected the end of the object, found {reader.TokenType}");
        }

        return new CleanupJob(options);
    }

    /// <summary>
    /// One state's action, read completely or not at all: a member this version does not know, or one of the wrong type,
    /// fails the job. The payload may come from a newer version's scheduler (a rolling deploy), and a member skipped here
    /// could be one that narrows the action (an age, a limit): run without it, the pass would remove or rerun jobs the
    /// newer version meant to keep. Unknown states are skipped instead (see <see cref="Deserialize"/>): skipping one does less.
    /// </summary>
    private static CleanupAction ReadAction(ref Utf8JsonReader reader, string member)
    {
        Read(ref reader, JsonTokenType.StartObject, member);
        string? kind = null;
        TimeSpan? maxAge = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case "action" when reader.TokenType == JsonTokenType.String:
                    kind = reader.GetString();
                    break;
                case "maxAge":
                    if (reader.TokenType != JsonTokenType.String
                        || !TimeSpan.TryParseExact(reader.GetString(), "c", CultureInfo.InvariantCulture, out var age) || age < TimeSpan.Zero)
                    {
                        throw new JobDecodeException(NamePrefix, member, $"$.{member}.maxAge", "'maxAge' is not a non-negative TimeSpan string in the \"c\" format");
                    }

                    maxAge = age;
                    break;
                case "action":
                    throw new JobDecodeException(NamePrefix, member, $"$.{member}.action", "'action' is not a string");
                default:
                    throw new JobDecodeException(NamePrefix, member, $"$.{member}.{property}",
                        $"the action has a member '{property}' this version does not know (written by a newer version?); the cleanup does not run without it");
            }
        }

        return kind switch
        {
            "remove" => maxAge is { } age ? CleanupAction.RemoveOlderThan(age) : CleanupAction.Remove,
            "rerun" or "doNothing" when maxAge is not null
                => throw new JobDecodeException(NamePrefix, member, $"$.{member}.maxAge", $"'maxAge' applies only to 'remove', not to '{kind}'"),
            "rerun" => CleanupAction.Rerun,
            "doNothing" => CleanupAction.DoNothing,
            _ => throw new JobDecodeException(NamePrefix, member, $"$.{member}.action", $"unknown or missing cleanup action '{kind}'"),
        };
    }

    private static void Read(ref Utf8JsonReader reader, JsonTokenType expected, string? member)
    {
        if (!reader.Read() || reader.TokenType != expected)
        {
            throw new JobDecodeException(NamePrefix, member, member is null ? "$" : $"$.{member}", $"expected {expected}, found {reader.TokenType}");
        }
    }
}

/// <summary>The definition that runs <see cref="CleanupJob"/> for one queue, registered as <c>jobs.cleanup:&lt;queue&gt;</c>.</summary>
internal static class CleanupJobDefinition
{
    /// <summary>A single-attempt definition whose handler runs one cleanup pass over <paramref name="driver"/>'s queue.</summary>
    public static JobDefinition<CleanupJob> Create(IJobDriver driver)
        => new((_, job, _, ct) => driver.CleanupAsync(job.Options, ct), JobRetryStrategy.None, timeout: null, CleanupJob.NameFor(driver.QueueName));
}
