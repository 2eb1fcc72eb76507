using System.Text.Json;

namespace Jobs.Sdk;

/// <summary>Evaluates a <see cref="JobQuery"/>'s filters in memory (the in-memory store; PostgreSQL does it in SQL).</summary>
internal static class JobQueryMatcher
{
    /// <summary>Parses JSON, throwing <see cref="ArgumentException"/> with the position when it is invalid.</summary>
    public static JsonDocument ParseJson(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"JobQuery.PayloadContains is not valid JSON: {ex.Message}", "query", ex);
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when a string or property name of <paramref name="json"/> holds what no store can:
    /// the escape of a NUL (PostgreSQL's jsonb refuses it) or of an unpaired surrogate (no UTF-8 form).
    /// </summary>
    public static void CheckStorable(JsonElement json)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in json.EnumerateObject())
                {
                    CheckStorable(ReadString(() => property.Name));
                    CheckStorable(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in json.EnumerateArray())
                {
                    CheckStorable(item);
                }

                break;
            case JsonValueKind.String:
                CheckStorable(ReadString(json.GetString));
                break;
        }
    }

    private static void CheckStorable(string? text) => JobTextLimits.CheckStorable(text, "A string of JobQuery.PayloadContains", "query");

    private static string? ReadString(Func<string?> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException ex)
        {
            // System.Text.Json refuses to decode the escape of an unpaired surrogate.
            throw new ArgumentException($"A string of JobQuery.PayloadContains cannot be read: {ex.Message}", "query", ex);
        }
    }

    public static bool Matches(JobQuery query, JobSummary job, string payload, JsonElement? contains)
    {
        if (query.Queue is not null && !string.Equals(query.Queue, job.QueueName, StringComparison.Ordinal))
        {
            return false;
        }

        if (query.States is { Count: > 0 } states && !states.Contains(job.State))
        {
            return false;
        }

        if (query.Names is { Count: > 0 } names && !names.Contains(job.Name, StringComparer.Ordinal))
        {
            return false;
        }

        if ((query.QueuedAfter is { } qa && job.QueuedAt < qa) || (query.QueuedBefore is { } qb && job.QueuedAt >= qb)
            || (query.RunAfter is { } ra && job.RunAt < ra) || (query.RunBefore is { } rb && job.RunAt >= rb))
        {
            return false;
        }

        // A job without an error reads as empty text, as PostgreSQL's coalesce(last_error, '') does: an empty text filters
        // nothing (as an empty PayloadText), any other text finds only jobs with an error.
        if (query.ErrorText is { } error && !(job.LastError ?? "").Contains(error, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (query.PayloadText is { } text && !JobPayloadText.Contains(JobPayloadText.Render(payload), text))
        {
            return false;
        }

        if (contains is { } pattern)
        {
            using var document = JsonDocument.Parse(payload);
            if (!Contains(document.RootElement, pattern))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>PostgreSQL's <c>jsonb @&gt;</c>: objects contain objects key by key, arrays contain arrays element by element, scalars are equal.</summary>
    public static bool Contains(JsonElement value, JsonElement pattern)
    {
        switch (pattern.ValueKind)
        {
            case JsonValueKind.Object:
                if (value.ValueKind != JsonValueKind.Object)
                {
                    return false;
                }

                foreach (var property in pattern.EnumerateObject())
                {
                    if (!value.TryGetProperty(property.Name, out var v) || !Contains(v, property.Value))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Array:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    return false;
                }

                foreach (var wanted in pattern.EnumerateArray())
                {
                    var found = false;
                    foreach (var item in value.EnumerateArray())
                    {
                        if (Contains(item, wanted))
                        {
                            found = true;
                            break;
                        }
                    }

                    if (!found)
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Number:
                return value.ValueKind == JsonValueKind.Number && value.GetDecimal() == pattern.GetDecimal();
            case JsonValueKind.String:
                return value.ValueKind == JsonValueKind.String && value.ValueEquals(pattern.GetString());
            default:
                return value.ValueKind == pattern.ValueKind;
        }
    }

    /// <summary>Whether <paramref name="job"/> comes after the cursor position in the query's order.</summary>
    public static bool IsAfter(JobCursor cursor, JobSummary job) => cursor.Order == JobOrder.RunAt
        ? job.RunAt > cursor.RunAt || (job.RunAt == cursor.RunAt && job.Id.Value.CompareTo(cursor.Id.Value) > 0)
        : job.Id.Value.CompareTo(cursor.Id.Value) < 0;
}
