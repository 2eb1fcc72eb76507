using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>Next-fire computation for every calendar kind (2026-01-01 is a Thursday).</summary>
public sealed class ScheduleKindTests
{
    [Fact]
    public void EveryMinute_fires_at_the_given_second_of_each_minute()
    {
        Assert.Equal([Utc(2026, 1, 1, 0, 1, 15), Utc(2026, 1, 1, 0, 2, 15), Utc(2026, 1, 1, 0, 3, 15)],
            Next(Schedule.EveryMinute(second: 15), Utc(2026, 1, 1, 0, 0, 20), 3));
        Assert.Equal([Utc(2026, 1, 1, 0, 0, 15)], Next(Schedule.EveryMinute(second: 15), Utc(2026, 1, 1, 0, 0, 0), 1));
    }

    [Fact]
    public void EveryMinute_is_strictly_after_the_given_instant()
        => Assert.Equal([Utc(2026, 1, 1, 0, 1), Utc(2026, 1, 1, 0, 2)], Next(Schedule.EveryMinute(), Utc(2026, 1, 1, 0, 0), 2));

    [Fact]
    public void OnMinutes_sorts_and_deduplicates_and_wraps_to_the_next_hour()
    {
        var schedule = Schedule.OnMinutes([45, 0, 15, 15]);
        Assert.Equal([Utc(2026, 1, 1, 10, 45), Utc(2026, 1, 1, 11, 0), Utc(2026, 1, 1, 11, 15), Utc(2026, 1, 1, 11, 45)],
            Next(schedule, Utc(2026, 1, 1, 10, 20), 4));
        Assert.Equal("on minutes 0,15,45 at second 0 UTC", schedule.Description);
    }

    [Fact]
    public void OnMinutes_with_a_second()
        => Assert.Equal([Utc(2026, 1, 1, 10, 30, 5), Utc(2026, 1, 1, 11, 30, 5)], Next(Schedule.OnMinutes([30], second: 5), Utc(2026, 1, 1, 10, 30, 0), 2));

    [Fact]
    public void Hourly_fires_at_the_minute_past_every_hour()
        => Assert.Equal([Utc(2026, 1, 1, 11, 30), Utc(2026, 1, 1, 12, 30)], Next(Schedule.Hourly(30), Utc(2026, 1, 1, 10, 30), 2));

    [Fact]
    public void Hourly_in_a_half_hour_zone_follows_local_hours()
    {
        var kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata"); // UTC+05:30, no DST
        Assert.Equal([Utc(2026, 1, 1, 0, 30), Utc(2026, 1, 1, 1, 30)], Next(Schedule.Hourly(0, kolkata), Utc(2026, 1, 1, 0, 0), 2));
    }

    [Fact]
    public void OnHours_fires_on_each_listed_hour()
        => Assert.Equal([Utc(2026, 1, 1, 23, 5), Utc(2026, 1, 2, 6, 5), Utc(2026, 1, 2, 23, 5)],
            Next(Schedule.OnHours([23, 6], minute: 5), Utc(2026, 1, 1, 7, 0), 3));

    [Fact]
    public void Daily_in_utc_by_default()
    {
        var schedule = Schedule.Daily(hour: 3, minute: 15);
        Assert.Equal([Utc(2026, 1, 2, 3, 15), Utc(2026, 1, 3, 3, 15)], Next(schedule, Utc(2026, 1, 1, 4, 0), 2));
        Assert.Same(TimeZoneInfo.Utc, schedule.TimeZone);
        Assert.Equal("daily at 03:15 UTC", schedule.Description);
    }

    [Fact]
    public void Daily_in_a_zone_uses_local_time_in_winter_and_summer()
    {
        var schedule = Schedule.Daily(hour: 3, minute: 0, Zones.London);
        Assert.Equal([Utc(2026, 1, 2, 3, 0)], Next(schedule, Utc(2026, 1, 1, 4, 0), 1)); // GMT = UTC
        Assert.Equal([Utc(2026, 7, 1, 2, 0)], Next(schedule, Utc(2026, 7, 1, 0, 0), 1)); // BST = UTC+1
        Assert.Equal("daily at 03:00 Europe/London", schedule.Description);
    }

    [Fact]
    public void OnDays_fires_on_listed_weekdays()
        => Assert.Equal([Utc(2026, 1, 2, 9, 30), Utc(2026, 1, 5, 9, 30), Utc(2026, 1, 9, 9, 30)],
            Next(Schedule.OnDays([DayOfWeek.Monday, DayOfWeek.Friday], hour: 9, minute: 30), Utc(2026, 1, 1), 3));

    [Fact]
    public void Weekly_fires_once_a_week_on_the_day()
    {
        Assert.Equal([Utc(2026, 1, 4), Utc(2026, 1, 11)], Next(Schedule.Weekly(DayOfWeek.Sunday), Utc(2026, 1, 1), 2));
        Assert.Equal([Utc(2026, 1, 3, 22, 45)], Next(Schedule.Weekly(DayOfWeek.Saturday, 22, 45), Utc(2026, 1, 1), 1));
    }

    [Fact]
    public void OnDates_31_skips_months_that_are_too_short()
        => Assert.Equal(
            [Utc(2026, 1, 31), Utc(2026, 3, 31), Utc(2026, 5, 31), Utc(2026, 7, 31), Utc(2026, 8, 31), Utc(2026, 10, 31), Utc(2026, 12, 31), Utc(2027, 1, 31)],
            Next(Schedule.OnDates([31]), Utc(2026, 1, 1), 8));

    [Fact]
    public void OnDates_29_and_30_skip_february_except_29_in_leap_years()
    {
        Assert.Equal([Utc(2027, 1, 29), Utc(2027, 1, 30), Utc(2027, 3, 29), Utc(2027, 3, 30)], Next(Schedule.OnDates([30, 29]), Utc(2027, 1, 1), 4));
        Assert.Equal([Utc(2028, 1, 30), Utc(2028, 2, 29), Utc(2028, 3, 29)], Next(Schedule.OnDates([29, 30]), Utc(2028, 1, 29), 3));
    }

    [Fact]
    public void OnDates_with_several_dates_and_a_time()
        => Assert.Equal([Utc(2026, 1, 15, 12, 0), Utc(2026, 2, 1, 12, 0), Utc(2026, 2, 15, 12, 0)],
            Next(Schedule.OnDates([1, 15], hour: 12), Utc(2026, 1, 1, 12, 0), 3));

    [Fact]
    public void Monthly_defaults_to_the_first_and_skips_short_months_for_late_dates()
    {
        Assert.Equal([Utc(2026, 2, 1), Utc(2026, 3, 1)], Next(Schedule.Monthly(), Utc(2026, 1, 15), 2));
        Assert.Equal([Utc(2026, 1, 30, 6, 0), Utc(2026, 3, 30, 6, 0), Utc(2026, 4, 30, 6, 0)], Next(Schedule.Monthly(30, hour: 6), Utc(2026, 1, 1), 3));
    }

    [Fact]
    public void OnMonths_fires_on_the_date_of_each_listed_month()
        => Assert.Equal([Utc(2026, 1, 15, 12, 0), Utc(2026, 7, 15, 12, 0), Utc(2027, 1, 15, 12, 0)],
            Next(Schedule.OnMonths([7, 1], date: 15, hour: 12), Utc(2026, 1, 1), 3));

    [Fact]
    public void OnMonths_february_29_fires_in_leap_years_only()
        => Assert.Equal([Utc(2028, 2, 29), Utc(2032, 2, 29)], Next(Schedule.OnMonths([2], date: 29), Utc(2026, 1, 1), 2));

    [Fact]
    public void Yearly_fires_once_a_year()
        => Assert.Equal([Utc(2027, 12, 25, 8, 0), Utc(2028, 12, 25, 8, 0)], Next(Schedule.Yearly(12, 25, hour: 8), Utc(2026, 12, 25, 8, 0), 2));

    [Fact]
    public void Yearly_february_29_skips_non_leap_years_including_2100()
    {
        Assert.Equal([Utc(2028, 2, 29), Utc(2032, 2, 29)], Next(Schedule.Yearly(2, 29), Utc(2026, 1, 1), 2));
        Assert.Equal([Utc(2096, 2, 29), Utc(2104, 2, 29)], Next(Schedule.Yearly(2, 29), Utc(2096, 1, 1), 2));
    }

    [Fact]
    public void GetOccurrences_lists_fires_in_the_half_open_interval()
        => Assert.Equal([Utc(2026, 1, 1, 1, 0), Utc(2026, 1, 1, 2, 0), Utc(2026, 1, 1, 3, 0)],
            Schedule.Hourly().GetOccurrences(Utc(2026, 1, 1, 0, 0), Utc(2026, 1, 1, 3, 0)).Select(o => o.ToUniversalTime()));

    public static TheoryData<string, Func<Schedule>> InvalidFactories => new()
    {
        { "second", () => Schedule.EveryMinute(60) },
        { "second", () => Schedule.EveryMinute(-1) },
        { "minutes", () => Schedule.OnMinutes([]) },
        { "minutes", () => Schedule.OnMinutes([60]) },
        { "minute", () => Schedule.Hourly(60) },
        { "hours", () => Schedule.OnHours([24]) },
        { "hours", () => Schedule.OnHours([]) },
        { "hour", () => Schedule.Daily(hour: 25) },
        { "minute", () => Schedule.Daily(minute: 60) },
        { "days", () => Schedule.OnDays([]) },
        { "days", () => Schedule.OnDays([(DayOfWeek)7]) },
        { "day", () => Schedule.Weekly((DayOfWeek)(-1)) },
        { "dates", () => Schedule.OnDates([0]) },
        { "dates", () => Schedule.OnDates([32]) },
        { "dates", () => Schedule.OnDates([]) },
        { "date", () => Schedule.Monthly(0) },
        { "months", () => Schedule.OnMonths([13]) },
        { "months", () => Schedule.OnMonths([]) },
        { "date", () => Schedule.OnMonths([2, 4], date: 31) },
        { "month", () => Schedule.Yearly(0) },
        { "date", () => Schedule.Yearly(2, 30) },
        { "date", () => Schedule.Yearly(4, 31) },
    };

    [Theory]
    [MemberData(nameof(InvalidFactories))]
    public void Invalid_arguments_throw_ArgumentException_naming_the_parameter(string parameter, Func<Schedule> create)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(create);
        Assert.Equal(parameter, ex.ParamName);
        Assert.StartsWith("Schedule.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_hour_message_is_clear()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.Daily(hour: 25));
        Assert.Contains("hour must be between 0 and 23; got 25", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Never_firing_combination_message_is_clear()
    {
        var ex = Assert.Throws<ArgumentException>(() => Schedule.Yearly(2, 30));
        Assert.Contains("never fires", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Descriptions_are_canonical_and_distinct()
    {
        string[] descriptions =
        [
            Schedule.EveryMinute().Description,
            Schedule.OnMinutes([0]).Description,
            Schedule.Hourly().Description,
            Schedule.OnHours([0]).Description,
            Schedule.Daily().Description,
            Schedule.OnDays([DayOfWeek.Sunday]).Description,
            Schedule.Weekly(DayOfWeek.Sunday).Description,
            Schedule.OnDates([1]).Description,
            Schedule.Monthly().Description,
            Schedule.OnMonths([1]).Description,
            Schedule.Yearly().Description,
            Schedule.Cron("0 0 * * *").Description,
        ];
        Assert.Equal(descriptions.Length, descriptions.Distinct().Count());
        Assert.Equal(Schedule.OnDates([15, 1, 1]).Description, Schedule.OnDates([1, 15]).Description);
        Assert.Equal("yearly on 01-01 at 00:00 UTC", Schedule.Yearly().ToString());
    }
}
