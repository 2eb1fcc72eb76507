using System.Text.Json;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Refuses a filter option given a value that filters nothing: empty or only whitespace (a script's
/// <c>jobs delete --error "$PATTERN"</c> whose variable is empty), a list of no names or states (<c>--name ","</c>), or a
/// payload every payload contains (<c>--payload '{}'</c>). An empty text matches every job and an empty list was dropped,
/// so a bulk command acted on every job (or every job of its other filters) as if <c>--all</c> had been given.
/// </summary>
internal static class EmptyFilter
{
    /// <summary>Throws for the first option that filters nothing; <c>listing</c> for <c>jobs list</c>, whose way to every job is to leave the option out, not --all.</summary>
    public static void Refuse(string? queue, string? state, string? name, string? payload, string? text, string? error,
        string? since, string? until, bool listing)
    {
        Text("--error", error, listing);
        Text("--text", text, listing);
        Blank("--queue", queue, "names no queue", "give the queue's name", listing);
        List("--name", name, "names no job", "give one or more job names, comma-separated", listing);
        List("--state", state, "names no state", "give one or more states, comma-separated (pending, processing, retrying, completed, failed, cancelled, paused)", listing);
        Blank("--since", since, "is no time", "give an instant (ISO 8601) or an age (2h, 7d)", listing);
        Blank("--until", until, "is no time", "give an instant (ISO 8601) or an age (2h, 7d)", listing);
        Payload(payload, listing);
    }

    private static void Text(string option, string? value, bool listing)
    {
        if (value is not null && string.IsNullOrWhiteSpace(value))
        {
            throw Refused(option, value.Length == 0 ? "an empty text matches every job" : $"{Quoted(value)} is only whitespace (an empty variable?)",
                "give the text to look for", listing);
        }
    }

    private static void Blank(string option, string? value, string nothing, string give, bool listing)
    {
        if (value is not null && string.IsNullOrWhiteSpace(value))
        {
            throw Refused(option, value.Length == 0 ? $"an empty value {nothing}" : $"{Quoted(value)} is only whitespace (an empty variable?)", give, listing);
        }
    }

    private static void List(string option, string? value, string nothing, string give, bool listing)
    {
        if (value is not null && value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length == 0)
        {
            throw Refused(option, value.Length == 0 ? $"an empty value {nothing}" : $"{Quoted(value)} {nothing} (an empty variable?)", give, listing);
        }
    }

    private static void Payload(string? value, bool listing)
    {
        const string Give = "give the JSON the payload contains, e.g. --payload '{\"to\":\"a@b.c\"}'";
        if (value is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            throw Refused("--payload", value.Length == 0 ? "an empty value is no JSON" : $"{Quoted(value)} is only whitespace (an empty variable?)", Give, listing);
        }

        if (ContainedInEvery(value))
        {
            throw Refused("--payload", $"{Quoted(value)} is contained in every payload of its kind (jsonb @>), so it matches every job", Give, listing);
        }
    }

    /// <summary>An empty object or array: <c>@&gt;</c> finds it in every object or array. JSON that does not parse is left to the query's own check.</summary>
    private static bool ContainedInEvery(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.Object => !root.EnumerateObject().Any(),
                JsonValueKind.Array => root.GetArrayLength() == 0,
                _ => false,
            };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Quoted(string value) => $"'{value}'";

    private static CliException Refused(string option, string what, string give, bool listing)
        => new($"{option}: {what}; {give}, or {(listing ? $"leave {option} out to list every job" : $"leave {option} out and use --all to act on every job")}.");
}
