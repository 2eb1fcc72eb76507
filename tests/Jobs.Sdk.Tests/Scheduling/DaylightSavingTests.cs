using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>
/// Daylight saving transitions in two zones. 2026: London springs forward on 29 March (01:00 GMT → 02:00 BST) and falls
/// back on 25 October (02:00 BST → 01:00 GMT); New York springs forward on 8 March (02:00 EST → 03:00 EDT) and falls
/// back on 1 November (02:00 EDT → 01:00 EST).
/// </summary>
public sealed class DaylightSavingTests
{
    [Fact]
    public void London_fire_time_in_the_skipped_hour_runs_right_after_the_jump()
        => Assert.Equal(
            [
                Utc(2026, 3, 28, 1, 30), // 01:30 GMT
                Utc(2026, 3, 29, 1, 0),  // 01:30 does not exist: 02:00 BST, the first instant after the gap
                Utc(2026, 3, 30, 0, 30), // 01:30 BST
            ],
            Next(Schedule.Daily(1, 30, Zones.London), Utc(2026, 3, 28), 3));

    [Fact]
    public void London_fire_time_in_the_repeated_hour_runs_once()
        => Assert.Equal(
            [
                Utc(2026, 10, 24, 0, 30), // 01:30 BST
                Utc(2026, 10, 25, 0, 30), // 01:30 BST, first pass only (not again at 01:30 GMT)
                Utc(2026, 10, 26, 1, 30), // 01:30 GMT
            ],
            Next(Schedule.Daily(1, 30, Zones.London), Utc(2026, 10, 24), 3));

    [Fact]
    public void London_interval_schedule_fires_in_both_passes_of_the_repeated_hour()
        => Assert.Equal(
            [Utc(2026, 10, 25, 0, 0), Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 25, 1, 0), Utc(2026, 10, 25, 1, 30), Utc(2026, 10, 26, 1, 0)],
            Next(Schedule.Cron("*/30 1 * * *", Zones.London), Utc(2026, 10, 24, 23, 0), 5));

    [Fact]
    public void NewYork_fire_time_in_the_skipped_hour_runs_right_after_the_jump()
        => Assert.Equal(
            [
                Utc(2026, 3, 7, 7, 30), // 02:30 EST
                Utc(2026, 3, 8, 7, 0),  // 02:30 does not exist: 03:00 EDT
                Utc(2026, 3, 9, 6, 30), // 02:30 EDT
            ],
            Next(Schedule.Daily(2, 30, Zones.NewYork), Utc(2026, 3, 7), 3));

    [Fact]
    public void NewYork_fire_time_in_the_repeated_hour_runs_once()
        => Assert.Equal(
            [Utc(2026, 10, 31, 5, 30), Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 2, 6, 30)],
            Next(Schedule.Daily(1, 30, Zones.NewYork), Utc(2026, 10, 31), 3));

    [Fact]
    public void NewYork_interval_schedule_fires_in_both_passes_of_the_repeated_hour()
        => Assert.Equal(
            [Utc(2026, 11, 1, 5, 0), Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 1, 6, 0), Utc(2026, 11, 1, 6, 30)],
            Next(Schedule.Cron("*/30 1 * * *", Zones.NewYork), Utc(2026, 11, 1, 4, 0), 4));

    [Theory]
    [InlineData("Europe/London", 2026, 3, 29)]
    [InlineData("Europe/London", 2026, 10, 25)]
    [InlineData("America/New_York", 2026, 3, 8)]
    [InlineData("America/New_York", 2026, 11, 1)]
    public void Hourly_neither_skips_nor_doubles_across_a_transition(string zone, int year, int month, int day)
    {
        var fires = Next(Schedule.Hourly(0, TimeZoneInfo.FindSystemTimeZoneById(zone)), Utc(year, month, day).AddHours(-12), 36);
        Assert.Equal(36, fires.Count);
        Assert.All(fires.Zip(fires.Skip(1)), pair => Assert.Equal(TimeSpan.FromHours(1), pair.Second - pair.First));
    }

    [Fact]
    public void Daily_in_New_York_shifts_utc_time_by_an_hour_across_spring_forward()
        => Assert.Equal([Utc(2026, 3, 7, 14, 0), Utc(2026, 3, 8, 13, 0)], Next(Schedule.Daily(9, 0, Zones.NewYork), Utc(2026, 3, 7), 2));

    [Fact]
    public void Fire_times_carry_the_zone_offset()
    {
        var fire = Schedule.Daily(9, 0, Zones.NewYork).GetNextOccurrence(Utc(2026, 7, 1))!.Value;
        Assert.Equal(TimeSpan.FromHours(-4), fire.Offset);
        Assert.Equal(9, fire.Hour);
    }
}
