using System.Text.Json;

namespace Jobs.Sdk.Cli;

/// <summary>Writes <c>--json</c> output with <see cref="Utf8JsonWriter"/> (no reflection: AOT-safe), one document per command.</summary>
internal static class JsonOut
{
    public static void Write(Action<Utf8JsonWriter> write)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            write(writer);
        }

        stdout.Write("\n"u8);
    }

    public static void Time(this Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    public static void Text(this Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    public static void Strings(this Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    public static void Counts(this Utf8JsonWriter w, string name, JobCounts counts)
    {
        w.WriteStartObject(name);
        foreach (var state in Enum.GetValues<JobState>())
        {
            w.WriteNumber(StateName(state), counts[state]);
        }

        w.WriteEndObject();
    }

    public static void Summary(this Utf8JsonWriter w, JobSummary j)
    {
        w.WriteString("id", j.Id.ToString());
        w.WriteString("name", j.Name);
        w.WriteString("queue", j.QueueName);
        w.WriteString("state", StateName(j.State));
        w.WriteString("priority", j.Priority.ToString());
        w.WriteNumber("attempts", j.Attempts);
        w.WriteNumber("maxAttempts", j.MaxAttempts);
        w.Time("queuedAt", j.QueuedAt);
        w.Time("runAt", j.RunAt);
        w.Time("startedAt", j.StartedAt);
        w.Time("finishedAt", j.FinishedAt);
        w.Text("lastError", j.LastError);
        w.Text("workerId", j.WorkerId);
    }

    public static string StateName(JobState state) => state.ToString().ToLowerInvariant();
}
