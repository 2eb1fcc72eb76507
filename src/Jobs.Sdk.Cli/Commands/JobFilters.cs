using System.Globalization;
using System.Text.RegularExpressions;

namespace Jobs.Sdk.Cli;

/// <summary>Turns the filter options shared by list, retry, cancel, delete, run-now and priority into a <see cref="JobQuery"/>.</summary>
internal static partial class JobFilters
{
    /// <summary>The query of the options; <c>listing</c> for <c>jobs list</c> (a refused empty filter says to leave it out, not to use --all).</summary>
    public static JobQuery Build(string? queue, string? state, string? name, string? payload, string? text, string? error,
        string? since, string? until, string order = "newest", int limit = 50, string? cursor = null, bool listing = false)
    {
        EmptyFilter.Refuse(queue, state, name, payload, text, error, since, until, listing);
        if (limit is < 1 or > JobQuery.MaxLimit)
        {
            throw new CliException($"--limit: {limit} is out of range; use 1 to {JobQuery.MaxLimit}.");
        }

        var query = new JobQuery
        {
            Queue = queue,
            States = state is null ? null : state.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseState).ToArray(),
            Names = name?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            PayloadContains = payload,
            PayloadText = text,
            ErrorText = error,
            QueuedAfter = since is null ? null : Instant(since, "--since"),
            QueuedBefore = until is null ? null : Instant(until, "--until"),
            Order = order.ToLowerInvariant() switch
            {
                "newest" => JobOrder.Newest,
                "run-at" or "runat" => JobOrder.RunAt,
                _ => throw new CliException($"--order: '{order}' is not an order; use newest or run-at."),
            },
            Limit = limit,
            Cursor = cursor,
        };
        try
        {
            query.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliException(InOptionWords(ex, query, order), ex);
        }

        return query;
    }

    /// <summary>
    /// <see cref="JobQuery.Validate"/>'s refusal in the words the operator typed: the options, not the query's properties
    /// ("JobQuery.PayloadContains is not valid JSON ... (Parameter 'query')" is <c>--payload: '{bad' is not valid JSON ...</c>).
    /// </summary>
    private static string InOptionWords(ArgumentException ex, JobQuery query, string order)
    {
        const string NotJson = "JobQuery.PayloadContains is not valid JSON";
        var message = ParameterSuffix().Replace(ex.Message, "");
        if (message.StartsWith("JobQuery.Cursor", StringComparison.Ordinal))
        {
            return $"--cursor: '{query.Cursor}' is not a cursor a page of `jobs list --order {order}` printed; pass the one the previous page printed, unchanged, with the same --order.";
        }

        if (message.StartsWith(NotJson, StringComparison.Ordinal))
        {
            return $"--payload: '{query.PayloadContains}' is not valid JSON{message[NotJson.Length..]} Give the JSON the payload contains, e.g. --payload '{{\"to\":\"a@b.c\"}}'.";
        }

        foreach (var (property, option) in Options)
        {
            message = message.Replace(property, option, StringComparison.Ordinal);
        }

        return message;
    }

    /// <summary>The query's properties the filters set, and the option of each.</summary>
    private static readonly (string Property, string Option)[] Options =
    [
        ("JobQuery.Queue", "--queue"), ("JobQuery.Names", "--name"), ("JobQuery.States", "--state"), ("JobQuery.PayloadContains", "--payload"),
        ("JobQuery.PayloadText", "--text"), ("JobQuery.ErrorText", "--error"), ("JobQuery.Limit", "--limit"), ("JobQuery.Order", "--order"),
    ];

    /// <summary>What <see cref="ArgumentException.Message"/> adds to the message: the parameter's name, the value out of range.</summary>
    [GeneratedRegex(@"( \(Parameter '[^']*'\))?(\r?\nActual value was .*)?$", RegexOptions.Singleline)]
    private static partial Regex ParameterSuffix();

    public static bool HasFilters(JobQuery q) => q.Queue is not null || q.States is { Count: > 0 } || q.Names is { Count: > 0 } || q.PayloadContains is not null
        || q.PayloadText is not null || q.ErrorText is not null || q.QueuedAfter is not null || q.QueuedBefore is not null;

    public static JobState ParseState(string text) => Enum.TryParse<JobState>(text, ignoreCase: true, out var s) && Enum.IsDefined(s)
        ? s
        : throw new CliException($"--state: '{text}' is not a state; use pending, processing, retrying, completed, failed, cancelled or paused.");

    /// <summary>A priority by name (numbers are refused: the names say which way is higher).</summary>
    public static JobPriority ParsePriority(string text) => !int.TryParse(text, CultureInfo.InvariantCulture, out _) && Enum.TryParse<JobPriority>(text, ignoreCase: true, out var p) && Enum.IsDefined(p)
        ? p
        : throw new CliException($"--to: '{text}' is not a priority; use lowest, lower, normal, higher or highest.");

    public static JobId ParseId(string text) => JobId.TryParse(text, CultureInfo.InvariantCulture, out var id)
        ? id
        : throw new CliException($"'{text}' is not a job id (a UUID such as 0192f0c4-7a3e-7b6e-9a55-3f1d2c4b5a69).");

    /// <summary>An absolute time (ISO 8601) or an age before now (<c>2h</c>, <c>7d</c>).</summary>
    private static DateTimeOffset Instant(string text, string option)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return t;
        }

        var age = CliRunner.ParseDuration(text, option);
        var now = DateTimeOffset.UtcNow;
        return age <= now - DateTimeOffset.MinValue ? now - age : throw new CliException($"{option}: '{text}' reaches back before year 1.");
    }
}
