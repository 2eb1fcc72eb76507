using System.Globalization;
using System.Text;
using Cronos;

namespace Jobs.Sdk;

/// <summary>
/// When a recurring job fires: a calendar rule evaluated in a time zone (UTC unless given). Create one with the
/// factory methods (<see cref="Daily"/>, <see cref="Cron"/>, ...); invalid arguments throw <see cref="ArgumentException"/>
/// at configuration time.
/// </summary>
/// <remarks>
/// <para>Fire times are computed by <see href="https://github.com/HangfireIO/Cronos">Cronos</see>. Around daylight saving
/// time changes: a fire time that falls in the hour the clock skips runs at the first instant after the jump (a
/// <c>02:30</c> daily job in New York runs at <c>03:00</c> on the spring-forward day); a fire time in the hour that repeats
/// runs once, in the first (summer-time) pass, unless the rule is interval based (<c>*</c>, a range or a step in the
/// second, minute or hour field, as in <c>*/5 * * * *</c>), which keeps firing through both passes.</para>
/// <para>Time zones are <see cref="TimeZoneInfo"/> instances, e.g. <c>TimeZoneInfo.FindSystemTimeZoneById("Europe/London")</c>
/// (IANA ids read from the operating system's tz database; this works with <c>InvariantGlobalization</c>).</para>
/// </remarks>
public sealed class Schedule
{
    private readonly CronExpression _expression;

    private Schedule(CronExpression expression, TimeZoneInfo timeZone, string description)
    {
        _expression = expression;
        TimeZone = timeZone;
        Description = description;
    }

    /// <summary>The time zone the rule is evaluated in.</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>
    /// A canonical, culture-independent description (for example <c>daily at 03:00 Europe/London</c>). Together with the job
    /// name it forms the default schedule entry key, so it is the same in every process that configures the same schedule.
    /// </summary>
    public string Description { get; }

    /// <summary>Every minute, at <paramref name="second"/> past the minute.</summary>
    public static Schedule EveryMinute(int second = 0)
    {
        Check(second, 0, 59, nameof(second), nameof(EveryMinute));
        return Create(Seconds(second, "* * * * *"), null, $"every minute at second {second}", nameof(EveryMinute));
    }

    /// <summary>On the given minutes of every hour, at <paramref name="second"/> past the minute.</summary>
    public static Schedule OnMinutes(IEnumerable<int> minutes, int second = 0)
    {
        var list = List(minutes, 0, 59, nameof(minutes), nameof(OnMinutes));
        Check(second, 0, 59, nameof(second), nameof(OnMinutes));
        return Create(Seconds(second, $"{list} * * * *"), null, $"on minutes {list} at second {second}", nameof(OnMinutes));
    }

    /// <summary>Every hour at <paramref name="minute"/> past the hour (the zone matters only for zones with a fractional-hour offset).</summary>
    public static Schedule Hourly(int minute = 0, TimeZoneInfo? timeZone = null)
    {
        Check(minute, 0, 59, nameof(minute), nameof(Hourly));
        return Create($"{minute} * * * *", timeZone, $"hourly at minute {minute}", nameof(Hourly));
    }

    /// <summary>On the given hours of every day, at <paramref name="minute"/> past the hour.</summary>
    public static Schedule OnHours(IEnumerable<int> hours, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        var list = List(hours, 0, 23, nameof(hours), nameof(OnHours));
        Check(minute, 0, 59, nameof(minute), nameof(OnHours));
        return Create($"{minute} {list} * * *", timeZone, $"on hours {list} at minute {minute}", nameof(OnHours));
    }

    /// <summary>Every day at <paramref name="hour"/>:<paramref name="minute"/>.</summary>
    public static Schedule Daily(int hour = 0, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        CheckTime(hour, minute, nameof(Daily));
        return Create($"{minute} {hour} * * *", timeZone, $"daily at {hour:00}:{minute:00}", nameof(Daily));
    }

    /// <summary>On the given days of the week at <paramref name="hour"/>:<paramref name="minute"/>.</summary>
    public static Schedule OnDays(IEnumerable<DayOfWeek> days, int hour = 0, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        ArgumentNullException.ThrowIfNull(days);
        var list = List(days.Select(d => (int)d), 0, 6, nameof(days), nameof(OnDays));
        CheckTime(hour, minute, nameof(OnDays));
        return Create($"{minute} {hour} * * {list}", timeZone, $"on days {list} at {hour:00}:{minute:00}", nameof(OnDays));
    }

    /// <summary>Once a week, on <paramref name="day"/> at <paramref name="hour"/>:<paramref name="minute"/>.</summary>
    public static Schedule Weekly(DayOfWeek day, int hour = 0, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        Check((int)day, 0, 6, nameof(day), nameof(Weekly));
        CheckTime(hour, minute, nameof(Weekly));
        return Create($"{minute} {hour} * * {(int)day}", timeZone, $"weekly on {day} at {hour:00}:{minute:00}", nameof(Weekly));
    }

    /// <summary>
    /// On the given dates (1–31) of every month at <paramref name="hour"/>:<paramref name="minute"/>. A date past the end of
    /// a month is skipped in that month (31 fires in seven months; 29 fires in February of leap years only).
    /// </summary>
    public static Schedule OnDates(IEnumerable<int> dates, int hour = 0, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        var list = List(dates, 1, 31, nameof(dates), nameof(OnDates));
        CheckTime(hour, minute, nameof(OnDates));
        return Create($"{minute} {hour} {list} * *", timeZone, $"on dates {list} at {hour:00}:{minute:00}", nameof(OnDates));
    }

    /// <summary>Once a month on <paramref name="date"/> (1–31; skipped in months that are shorter) at <paramref name="hour"/>:<paramref name="minute"/>.</summary>
    public static Schedule Monthly(int date = 1, int hour = 0, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        Check(date, 1, 31, nameof(date), nameof(Monthly));
        CheckTime(hour, minute, nameof(Monthly));
        return Create($"{minute} {hour} {date} * *", timeZone, $"monthly on date {date} at {hour:00}:{minute:00}", nameof(Monthly));
    }

    /// <summary>
    /// In the given months (1 = January … 12 = December) on <paramref name="date"/> at <paramref name="hour"/>:<paramref name="minute"/>.
    /// Months too short for the date are skipped; a combination that never exists (30 February) throws.
    /// </summary>
    public static Schedule OnMonths(IEnumerable<int> months, int date = 1, int hour = 0, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        var list = List(months, 1, 12, nameof(months), nameof(OnMonths));
        Check(date, 1, 31, nameof(date), nameof(OnMonths));
        CheckTime(hour, minute, nameof(OnMonths));
        return Create($"{minute} {hour} {date} {list} *", timeZone, $"on months {list} date {date} at {hour:00}:{minute:00}", nameof(OnMonths));
    }

    /// <summary>Once a year on <paramref name="month"/>/<paramref name="date"/> (29 February fires in leap years only).</summary>
    public static Schedule Yearly(int month = 1, int date = 1, int hour = 0, int minute = 0, TimeZoneInfo? timeZone = null)
    {
        Check(month, 1, 12, nameof(month), nameof(Yearly));
        Check(date, 1, 31, nameof(date), nameof(Yearly));
        CheckTime(hour, minute, nameof(Yearly));
        return Create($"{minute} {hour} {date} {month} *", timeZone, $"yearly on {month:00}-{date:00} at {hour:00}:{minute:00}", nameof(Yearly));
    }

    /// <summary>
    /// A five-field crontab expression: <c>minute hour day-of-month month day-of-week</c>, with <c>*</c>, values, ranges
    /// (<c>1-5</c>), steps (<c>*/15</c>, <c>0-30/10</c>), lists (<c>1,15</c>), month names <c>jan</c>–<c>dec</c>, day names
    /// <c>sun</c>–<c>sat</c> (0 and 7 are both Sunday), and the nicknames <c>@yearly</c>, <c>@annually</c>, <c>@monthly</c>,
    /// <c>@weekly</c>, <c>@daily</c>, <c>@midnight</c> and <c>@hourly</c>.
    /// </summary>
    /// <remarks>
    /// Restricting both day-of-month and day-of-week is rejected: classic cron fires when <em>either</em> matches while Cronos
    /// requires both, so the expression would not mean what it says to everyone. Use one of them (Cronos extensions such
    /// as <c>L</c>, <c>W</c> and <c>5#3</c> for "third Friday" are accepted). The <c>H</c> (hash jitter) character is rejected
    /// because every node must compute the same fire times. Expressions of other dialects (seconds first, a year last as AWS
    /// EventBridge writes it, a <c>CRON_TZ=</c> or <c>TZ=</c> zone in front) are rejected with the five fields (and the
    /// <paramref name="timeZone"/>) to write instead.
    /// </remarks>
    /// <param name="expression">The expression, e.g. <c>*/5 * * * *</c>.</param>
    /// <param name="timeZone">The zone it is evaluated in; UTC when <see langword="null"/>.</param>
    public static Schedule Cron(string expression, TimeZoneInfo? timeZone = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var text = string.Join(' ', expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (text.Length == 0)
        {
            throw new ArgumentException("Schedule.Cron: the cron expression is empty. Expected five fields, e.g. \"*/5 * * * *\".", nameof(expression));
        }

        if (CronDialects.ZonePrefix(text) is { } zonePrefix)
        {
            throw new ArgumentException(zonePrefix, nameof(expression));
        }

        if (text.Contains('H', StringComparison.OrdinalIgnoreCase) && !text.StartsWith('@'))
        {
            // No field of a valid expression contains an H except as the jitter character (names like "thu" do; check per field).
            var fields = text.Split(' ');
            if (fields.Any(f => f.Equals("H", StringComparison.OrdinalIgnoreCase) || f.StartsWith("H(", StringComparison.OrdinalIgnoreCase)
                || f.StartsWith("H/", StringComparison.OrdinalIgnoreCase)))
            {
                throw new ArgumentException(
                    $"Schedule.Cron: '{text}' uses the H (jitter) character, which is not supported: every node must compute the same fire times. Pick explicit values.",
                    nameof(expression));
            }
        }

        if (!text.StartsWith('@'))
        {
            var fields = text.Split(' ');
            if (fields.Length != 5)
            {
                throw new ArgumentException(
                    $"Schedule.Cron: '{text}' has {fields.Length} fields; expected five (minute hour day-of-month month day-of-week), e.g. \"*/5 * * * *\"." +
                    CronDialects.ExtraFields(fields), nameof(expression));
            }

            if (fields[2] is not ("*" or "?") && fields[4] is not ("*" or "?"))
            {
                throw new ArgumentException(
                    $"Schedule.Cron: '{text}' restricts both day-of-month ('{fields[2]}') and day-of-week ('{fields[4]}'); crontab would run when either " +
                    "matches, this scheduler would need both. Restrict only one of them (e.g. '0 9 * * 5#1' for the first Friday of the month).",
                    nameof(expression));
            }
        }

        if (text.StartsWith('@'))
        {
            try
            {
                return Create(text, timeZone, $"cron {text}", nameof(Cron));
            }
            catch (ArgumentException ex) when (CronDialects.NicknameWithMore(text) is { } withMore)
            {
                throw new ArgumentException(withMore, nameof(expression), ex.InnerException ?? ex);
            }
            catch (ArgumentException ex)
            {
                // Nicknames of other dialects (robfig's "@every 5m", "@reboot"): say which ones exist and how to write an interval.
                throw new ArgumentException(
                    $"Schedule.Cron: '{text}' is not a valid cron expression: '{text.Split(' ')[0]}' is not a supported nickname. Use @yearly, @annually, @monthly, @weekly, @daily, " +
                    "@midnight or @hourly, or five fields; for an interval, a step: \"*/5 * * * *\" runs every 5 minutes, \"0 */2 * * *\" every 2 hours.",
                    nameof(expression), ex.InnerException ?? ex);
            }
        }

        return Create(text, timeZone, $"cron {text}", nameof(Cron));
    }

    /// <summary>The first fire time strictly after <paramref name="after"/>, or <see langword="null"/> when there is none (before year 2500).</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after) => _expression.GetNextOccurrence(after, TimeZone, inclusive: false);

    /// <summary>The fire times in (<paramref name="after"/>, <paramref name="upTo"/>], in order.</summary>
    public IEnumerable<DateTimeOffset> GetOccurrences(DateTimeOffset after, DateTimeOffset upTo)
        => _expression.GetOccurrences(after, upTo, TimeZone, fromInclusive: false, toInclusive: true);

    /// <inheritdoc />
    public override string ToString() => Description;

    private static Schedule Create(string cron, TimeZoneInfo? timeZone, string description, string method)
    {
        timeZone ??= TimeZoneInfo.Utc;
        var format = cron.Count(c => c == ' ') == 5 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(cron, format);
        }
        catch (Exception ex) when (ex is CronFormatException or MissingSeedException or FormatException or ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"Schedule.{method}: '{cron}' is not a valid cron expression: {ex.Message}", "expression", ex);
        }

        // Catches rules that never fire, such as 30 February ("0 0 30 2 *").
        if (expression.GetNextOccurrence(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), timeZone) is null)
        {
            throw new ArgumentException($"Schedule.{method}: '{cron}' never fires (no such date in any year).", method == nameof(Cron) ? "expression" : "date");
        }

        var zone = timeZone.Equals(TimeZoneInfo.Utc) ? "UTC" : timeZone.Id;
        return new Schedule(expression, timeZone, $"{description} {zone}");
    }

    private static string Seconds(int second, string fiveFields) => $"{second} {fiveFields}";

    private static void CheckTime(int hour, int minute, string method)
    {
        Check(hour, 0, 23, nameof(hour), method);
        Check(minute, 0, 59, nameof(minute), method);
    }

    private static void Check(int value, int min, int max, string name, string method)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"Schedule.{method}: {name} must be between {min} and {max}; got {value}.");
        }
    }

    private static string List(IEnumerable<int> values, int min, int max, string name, string method)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        var set = new SortedSet<int>();
        foreach (var value in values)
        {
            if (value < min || value > max)
            {
                throw new ArgumentOutOfRangeException(name, value, $"Schedule.{method}: every value in {name} must be between {min} and {max}; got {value}.");
            }

            set.Add(value);
        }

        if (set.Count == 0)
        {
            throw new ArgumentException($"Schedule.{method}: {name} is empty; list at least one value.", name);
        }

        var text = new StringBuilder();
        foreach (var value in set)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(value.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}

/// <summary>What a schedule entry does about fire times missed while no scheduler was running.</summary>
public enum ScheduleAccuracy
{
    /// <summary>Push one job for the latest missed fire time (a single catch-up run), then follow the schedule. The default.</summary>
    Latest,

    /// <summary>Push one job for every missed fire time, oldest first, then follow the schedule.</summary>
    All,
}
