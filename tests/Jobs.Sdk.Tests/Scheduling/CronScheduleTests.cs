using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>Five-field crontab parsing through <see cref="Schedule.Cron"/> (2026-01-01 is a Thursday).</summary>
public sealed class CronScheduleTests
{
    [Fact]
    public void Ranges()
        => Assert.Equal([Utc(2026, 1, 1, 17, 0), Utc(2026, 1, 2, 9, 0), Utc(2026, 1, 2, 10, 0)],
            Next(Schedule.Cron("0 9-17 * * *"), Utc(2026, 1, 1, 16, 30), 3));

    [Fact]
    public void Steps_over_the_whole_field()
        => Assert.Equal([Utc(2026, 1, 1, 10, 15), Utc(2026, 1, 1, 10, 30), Utc(2026, 1, 1, 10, 45), Utc(2026, 1, 1, 11, 0)],
            Next(Schedule.Cron("*/15 * * * *"), Utc(2026, 1, 1, 10, 7), 4));

    [Fact]
    public void Steps_over_a_range()
        => Assert.Equal([Utc(2026, 1, 1, 10, 10), Utc(2026, 1, 1, 10, 20), Utc(2026, 1, 1, 10, 30), Utc(2026, 1, 1, 11, 0)],
            Next(Schedule.Cron("0-30/10 * * * *"), Utc(2026, 1, 1, 10, 7), 4));

    [Fact]
    public void Lists_mixed_with_ranges()
        => Assert.Equal([Utc(2026, 1, 1, 12, 0), Utc(2026, 1, 1, 18, 0), Utc(2026, 1, 1, 19, 0), Utc(2026, 1, 2, 8, 0)],
            Next(Schedule.Cron("0 8,12,18-19 * * *"), Utc(2026, 1, 1, 8, 0), 4));

    [Fact]
    public void Day_names_and_ranges_of_names()
        => Assert.Equal([Utc(2026, 1, 5, 9, 0), Utc(2026, 1, 6, 9, 0)], Next(Schedule.Cron("0 9 * * mon-fri"), Utc(2026, 1, 2, 10, 0), 2));

    [Fact]
    public void Month_names_are_case_insensitive()
        => Assert.Equal([Utc(2026, 7, 1), Utc(2027, 1, 1)], Next(Schedule.Cron("0 0 1 JAN,jul *"), Utc(2026, 1, 1), 2));

    [Theory]
    [InlineData("0 0 * * 0")]
    [InlineData("0 0 * * 7")]
    [InlineData("0 0 * * sun")]
    [InlineData("0 0 * * SUN")]
    public void Zero_seven_and_sun_all_mean_sunday(string expression)
        => Assert.Equal([Utc(2026, 1, 4), Utc(2026, 1, 11)], Next(Schedule.Cron(expression), Utc(2026, 1, 1), 2));

    [Fact]
    public void Day_of_week_range_ending_in_seven()
        => Assert.Equal([Utc(2026, 1, 3), Utc(2026, 1, 4), Utc(2026, 1, 10)], Next(Schedule.Cron("0 0 * * 6-7"), Utc(2026, 1, 1), 3));

    [Theory]
    [InlineData("@yearly", 2027, 1, 1, 0)]
    [InlineData("@annually", 2027, 1, 1, 0)]
    [InlineData("@monthly", 2026, 2, 1, 0)]
    [InlineData("@weekly", 2026, 1, 4, 0)]
    [InlineData("@daily", 2026, 1, 2, 0)]
    [InlineData("@midnight", 2026, 1, 2, 0)]
    [InlineData("@hourly", 2026, 1, 1, 11)]
    public void Nicknames(string expression, int year, int month, int day, int hour)
        => Assert.Equal([Utc(year, month, day, hour, 0)], Next(Schedule.Cron(expression), Utc(2026, 1, 1, 10, 30), 1));

    [Fact]
    public void Day_of_month_31_and_february_29()
    {
        Assert.Equal([Utc(2026, 3, 31), Utc(2026, 5, 31)], Next(Schedule.Cron("0 0 31 * *"), Utc(2026, 2, 1), 2));
        Assert.Equal([Utc(2028, 2, 29), Utc(2032, 2, 29)], Next(Schedule.Cron("0 0 29 feb *"), Utc(2026, 1, 1), 2));
    }

    [Fact]
    public void Extra_whitespace_is_normalised_in_the_description()
        => Assert.Equal(Schedule.Cron("*/5 * * * *").Description, Schedule.Cron("  */5   *  * * *  ").Description);

    [Fact]
    public void Time_zone_applies_to_cron()
        => Assert.Equal([Utc(2026, 1, 1, 14, 0), Utc(2026, 7, 1, 13, 0)],
            [Next(Schedule.Cron("0 9 * * *", Zones.NewYork), Utc(2026, 1, 1), 1)[0], Next(Schedule.Cron("0 9 * * *", Zones.NewYork), Utc(2026, 7, 1), 1)[0]]);

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("* * * *", "has 4 fields")]
    [InlineData("0 * * * * *", "has 6 fields")]
    [InlineData("60 * * * *", "not a valid cron expression")]
    [InlineData("* 24 * * *", "not a valid cron expression")]
    [InlineData("* * 32 * *", "not a valid cron expression")]
    [InlineData("* * 0 * *", "not a valid cron expression")]
    [InlineData("* * * 13 *", "not a valid cron expression")]
    [InlineData("* * * * 8", "not a valid cron expression")]
    [InlineData("* * * * funday", "not a valid cron expression")]
    [InlineData("0 0 * smarch *", "not a valid cron expression")]
    [InlineData("abc * * * *", "not a valid cron expression")]
    [InlineData("*/0 * * * *", "not a valid cron expression")]
    [InlineData("@fortnightly", "not a valid cron expression")]
    [InlineData("0 0 1 * mon", "both day-of-month")]
    [InlineData("0 0 30 2 *", "never fires")]
    [InlineData("H * * * *", "jitter")]
    [InlineData("H/5 * * * *", "jitter")]
    [InlineData("0 H(0-5) * * *", "jitter")]
    public void Invalid_expressions_throw_ArgumentException_with_a_clear_message(string expression, string expected)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => Schedule.Cron(expression));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal("expression", ex.ParamName);
    }

    /// <summary>
    /// Expressions from other cron dialects (seconds first as in Quartz, Spring and Hangfire, a year last as in Quartz,
    /// robfig's <c>@every</c>, <c>@reboot</c>) fail at configuration with a message that says what is not supported and
    /// what to write instead, not only that the expression is not valid.
    /// </summary>
    [Theory]
    [InlineData("0 */5 * * * ?", "seconds", "'*/5 * * * ?'")]
    [InlineData("*/10 * * * * *", "seconds", "Schedule.EveryMinute(second)")]
    [InlineData("0 0 12 ? * MON-FRI *", "seconds", "'0 12 ? * MON-FRI'")]
    [InlineData("@every 5m", "'@every'", "\"*/5 * * * *\"")]
    [InlineData("@every 1h", "'@every'", "\"0 */2 * * *\"")]
    [InlineData("@reboot", "'@reboot'", "@hourly")]
    public void Expressions_of_other_cron_dialects_are_rejected_with_what_to_write_instead(string expression, string names, string suggests)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => Schedule.Cron(expression));
        Assert.True(ex.Message.Contains(names, StringComparison.Ordinal) && ex.Message.Contains(suggests, StringComparison.Ordinal),
            $"Schedule.Cron(\"{expression}\") threw: {ex.Message}");
        Assert.Equal("expression", ex.ParamName);
    }

    /// <summary>
    /// Six fields are not always seconds first: AWS EventBridge writes a year last (<c>minute hour day-of-month month
    /// day-of-week year</c>), and robfig/cron and Kubernetes put a zone in front (<c>CRON_TZ=</c>, <c>TZ=</c>). The message
    /// must not tell the user to drop the first field: <c>'0 3 * * ? *'</c> (daily at 03:00) without it is
    /// <c>'3 * * ? *'</c> (every hour at :03), and a zone prefix dropped runs the job in UTC.
    /// </summary>
    [Theory]
    [InlineData("0 3 * * ? *", "year", "'0 3 * * ?'", "'3 * * ? *'")]
    [InlineData("15 10 ? * MON-FRI *", "year", "'15 10 ? * MON-FRI'", "'10 ? * MON-FRI *'")]
    [InlineData("0 12 1 * ? 2027", "year", "'0 12 1 * ?'", "'12 1 * ? 2027'")]
    [InlineData("CRON_TZ=Europe/London 0 3 * * *", "timeZone", "'0 3 * * *'", "seconds")]
    [InlineData("TZ=America/New_York 30 2 * * 1-5", "timeZone", "'30 2 * * 1-5'", "seconds")]
    [InlineData("CRON_TZ=Asia/Tokyo @daily", "timeZone", "'@daily'", "nickname")]
    public void Six_fields_or_a_zone_prefix_of_other_dialects_are_not_read_as_seconds_first(string expression, string names, string suggests, string misleads)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => Schedule.Cron(expression));
        Assert.True(ex.Message.Contains(names, StringComparison.Ordinal) && ex.Message.Contains(suggests, StringComparison.Ordinal)
            && !ex.Message.Contains(misleads, StringComparison.Ordinal),
            $"Schedule.Cron(\"{expression}\") threw: {ex.Message}");
        Assert.Equal("expression", ex.ParamName);
    }

    /// <summary>
    /// A supported nickname with something after it (a time, a day, a zone) is not an unknown nickname: the message must not
    /// reject '@daily' while listing it as supported, but say that a nickname stands alone and how to write the time.
    /// </summary>
    [Theory]
    [InlineData("@daily 03:00", "'@daily' stands alone")]
    [InlineData("@weekly mon", "'@weekly' stands alone")]
    [InlineData("@hourly Europe/London", "'@hourly' stands alone")]
    public void A_supported_nickname_with_more_after_it_is_not_called_unsupported(string expression, string expected)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => Schedule.Cron(expression));
        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal) && !ex.Message.Contains("not a supported nickname", StringComparison.Ordinal)
            && ex.Message.Contains("timeZone", StringComparison.Ordinal), $"Schedule.Cron(\"{expression}\") threw: {ex.Message}");
        Assert.Equal("expression", ex.ParamName);
    }

    /// <summary>Six fields that fit both readings (no '?' to tell) give both: seconds first, and a year last.</summary>
    [Fact]
    public void Six_fields_that_fit_both_readings_give_both()
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => Schedule.Cron("0 3 * * * *"));
        Assert.True(ex.Message.Contains("'3 * * * *'", StringComparison.Ordinal) && ex.Message.Contains("'0 3 * * *'", StringComparison.Ordinal)
            && ex.Message.Contains("year", StringComparison.Ordinal), $"Schedule.Cron(\"0 3 * * * *\") threw: {ex.Message}");
    }

    [Theory]
    [InlineData("@every_minute")]
    [InlineData("@every_second")]
    public void Cronos_nicknames_keep_their_meaning(string expression)
        => Assert.NotNull(Schedule.Cron(expression).GetNextOccurrence(Utc(2026, 1, 1)));

    [Fact]
    public void Names_containing_an_h_are_not_mistaken_for_jitter()
        => Assert.Equal([Utc(2026, 1, 1, 0, 0), Utc(2026, 1, 8, 0, 0)], Next(Schedule.Cron("0 0 * * thu"), Utc(2025, 12, 31), 2));

    [Fact]
    public void Null_expression_throws_ArgumentNullException()
        => Assert.Throws<ArgumentNullException>(() => Schedule.Cron(null!));
}
