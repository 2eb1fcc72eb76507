namespace Jobs.Sdk;

/// <summary>
/// What <see cref="Schedule.Cron"/> says about expressions written for another cron dialect: what the dialect's extra part
/// is, and the five-field expression (and argument) that means the same here. Advice that drops the wrong field changes
/// the schedule: AWS EventBridge's <c>'0 3 * * ? *'</c> (daily at 03:00, a year last) read as seconds first is
/// <c>'3 * * ? *'</c>, every hour at :03.
/// </summary>
internal static class CronDialects
{
    /// <summary>
    /// For an expression that starts with a zone (<c>CRON_TZ=Europe/London 0 3 * * *</c>, <c>TZ=...</c>, as robfig/cron and
    /// Kubernetes write it): the message saying to pass the zone as the <c>timeZone</c> argument; otherwise <see langword="null"/>.
    /// </summary>
    public static string? ZonePrefix(string text)
    {
        var parts = text.Split(' ', 2);
        var equals = parts[0].IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || parts[0][..equals] is not { } name
            || !(name.Equals("CRON_TZ", StringComparison.OrdinalIgnoreCase) || name.Equals("TZ", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var zone = parts[0][(equals + 1)..];
        var rest = parts.Length > 1 ? parts[1] : "*/5 * * * *";
        return $"Schedule.Cron: '{text}' starts with a time zone ('{parts[0]}'), which this scheduler does not read from the expression " +
            $"(without it the expression runs in UTC). The expression is '{rest}'; pass the zone as the timeZone argument: " +
            $"Schedule.Cron(\"{rest}\", TimeZoneInfo.FindSystemTimeZoneById(\"{zone}\")).";
    }

    /// <summary>
    /// For six or seven fields: what the extra fields look like and the expression without them. Six fields are seconds
    /// first (Quartz, Spring, Hangfire; a <c>?</c> only as day-of-month or day-of-week, fields 4 and 6) or a year last
    /// (AWS EventBridge; a <c>?</c> as fields 3 or 5); when no <c>?</c> tells them apart, both readings are given. Seven
    /// fields are Quartz's, seconds first and a year last. Empty for other counts.
    /// </summary>
    public static string ExtraFields(string[] fields)
    {
        if (fields.Length == 7)
        {
            var year = fields[6] is not ("*" or "?") ? $" and a year ('{fields[6]}': not supported either)" : "";
            return $" Seven fields look like a format with seconds first{year}: this scheduler does not take seconds in cron expressions. " +
                $"Without them the expression is '{string.Join(' ', fields[1..6])}'; {SecondAdvice}.";
        }

        if (fields.Length != 6)
        {
            return "";
        }

        var withoutSeconds = string.Join(' ', fields[1..6]);
        var withoutYear = string.Join(' ', fields[..5]);
        var secondsFirst = !IsYears(fields[5]) && fields[2] != "?" && fields[4] != "?";
        var yearLast = (fields[5] == "*" || IsYears(fields[5])) && fields[3] != "?";
        var everyYear = fields[5] == "*" ? "" : $", which fires every year, not only in '{fields[5]}'";
        if (secondsFirst && yearLast)
        {
            return " Six fields fit two formats, and this scheduler takes neither seconds nor a year: with seconds first (Quartz, Spring, " +
                $"Hangfire) the expression without them is '{withoutSeconds}' ({SecondAdvice}); with a year last (AWS EventBridge) the " +
                $"expression without it is '{withoutYear}'{everyYear}.";
        }

        if (yearLast)
        {
            return " Six fields with a year last look like AWS EventBridge's format (minute hour day-of-month month day-of-week year): this " +
                $"scheduler takes no year. Without it the expression is '{withoutYear}'{everyYear}.";
        }

        return " Six fields look like a format with seconds first: this scheduler does not take seconds in cron expressions. Without them " +
            $"the expression is '{withoutSeconds}'; {SecondAdvice}.";
    }

    /// <summary>
    /// For a nickname Cronos knows followed by more (<c>@daily 03:00</c>, <c>@weekly mon</c>, <c>@hourly Europe/London</c>):
    /// the message saying that a nickname stands alone and how to write a time or a zone; otherwise <see langword="null"/>
    /// (an unknown nickname, which the caller names).
    /// </summary>
    public static string? NicknameWithMore(string text)
    {
        var parts = text.Split(' ', 2);
        if (parts.Length < 2 || !Nicknames.Contains(parts[0], StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        return $"Schedule.Cron: '{text}' is not a valid cron expression: '{parts[0]}' stands alone, with nothing after it. For another time or " +
            "day, write five fields (minute hour day-of-month month day-of-week), e.g. '0 3 * * *' for 03:00 every day or '0 3 * * mon' for " +
            "03:00 on Mondays; pass a zone as the timeZone argument.";
    }

    /// <summary>The nicknames Cronos takes (its <c>@every_minute</c> and <c>@every_second</c> too).</summary>
    private static readonly string[] Nicknames =
        ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every_minute", "@every_second"];

    private const string SecondAdvice = "to fire at a second past the minute, use Schedule.EveryMinute(second) or Schedule.OnMinutes(minutes, second)";

    /// <summary>Whether <paramref name="field"/> names years: four-digit numbers in a list, range or step (a day-of-week never has one).</summary>
    private static bool IsYears(string field)
    {
        var digits = 0;
        var year = false;
        foreach (var c in field)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
                continue;
            }

            if (c is not (',' or '-' or '/' or '*'))
            {
                return false;
            }

            year |= digits == 4;
            digits = 0;
        }

        return year || digits == 4;
    }
}
