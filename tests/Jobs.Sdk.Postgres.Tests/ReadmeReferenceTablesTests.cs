using System.Diagnostics.Metrics;
using Jobs.Sdk.Postgres;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// README.md's reference tables against the code, so that they cannot drift: every setting of the option types an
/// operator configures has a row with the code's default, every metric the meter publishes has its row with its type
/// and unit, and every log event id under src/ has its row with its level (and no two log messages share an id).
/// </summary>
public sealed class ReadmeReferenceTablesTests
{
    [Fact]
    public void Every_option_table_lists_each_setting_with_the_code_default()
    {
        var readme = ReadmeTables.Read("README.md");
        object[] options = [new PostgresJobDriverOptions(), new JobWorkerOptions(), new QueueOptions("q"), new JobQueueOptions(), new JobsHealthCheckOptions(), new RetentionPolicy()];

        var problems = options.SelectMany(o => ReadmeTables.CompareOptions(readme, o)).ToArray();

        Assert.True(problems.Length == 0, "README.md's option tables disagree with the code:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void The_metrics_table_lists_every_instrument_with_its_type_and_unit()
    {
        var published = new List<Instrument>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, JobsMetrics.Shared.Meter))
                {
                    published.Add(instrument);
                }
            };
            _ = JobsMetrics.Shared; // the instruments are created with it
            listener.Start();
        }

        var code = published.ToDictionary(i => i.Name, i => (Type: Kind(i), Unit: i.Unit ?? ""));
        var rows = ReadmeTables.Rows(ReadmeTables.Read("README.md"), "Instrument")
            .ToDictionary(r => Unquote(r[0]), r => (Type: r[1], Unit: Unquote(r[2])));

        var problems = code.Keys.Except(rows.Keys).Select(n => $"{n} ({code[n].Type}, {code[n].Unit}) has no row.")
            .Concat(rows.Keys.Except(code.Keys).Select(n => $"{n} is listed, but the meter publishes no such instrument."))
            .Concat(code.Keys.Intersect(rows.Keys).Where(n => code[n] != rows[n])
                .Select(n => $"{n}: the table says {rows[n].Type} in {rows[n].Unit}, the code publishes a {code[n].Type} in {code[n].Unit}."))
            .ToArray();
        Assert.True(code.Count > 0, "The meter published no instrument.");
        Assert.True(problems.Length == 0, "README.md's metrics table disagrees with the meter:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void The_log_events_table_lists_every_event_id_with_its_level()
    {
        var messages = ReadmeTables.LoggerMessages();
        var rows = ReadmeTables.Rows(ReadmeTables.Read("README.md"), "Event id")
            .Select(r => (Id: int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture), Level: r[1])).ToArray();

        var problems = messages.GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"event id {g.Key} is declared {g.Count()} times: {string.Join(", ", g.Select(m => m.File))}")
            .Concat(messages.Where(m => !rows.Any(r => r.Id == m.Id)).Select(m => $"event {m.Id} ({m.Level}, {m.File}) has no row."))
            .Concat(rows.Where(r => !messages.Any(m => m.Id == r.Id)).Select(r => $"event {r.Id} is listed, but no [LoggerMessage] under src/ has it."))
            .Concat(messages.Join(rows, m => m.Id, r => r.Id, (m, r) => (m, r)).Where(p => p.m.Level != p.r.Level)
                .Select(p => $"event {p.m.Id}: the table says {p.r.Level}, {p.m.File} logs it at {p.m.Level}."))
            .ToArray();
        Assert.True(messages.Count > 0, "No [LoggerMessage] found under src/.");
        Assert.True(problems.Length == 0, "README.md's log events table disagrees with the code:\n" + string.Join('\n', problems));
    }

    private static string Kind(Instrument instrument) => instrument.GetType().GetGenericTypeDefinition().Name switch
    {
        "Counter`1" => "counter",
        "Histogram`1" => "histogram",
        "ObservableGauge`1" => "observable gauge",
        "UpDownCounter`1" => "up-down counter",
        "ObservableCounter`1" => "observable counter",
        "ObservableUpDownCounter`1" => "observable up-down counter",
        "Gauge`1" => "gauge",
        var other => other,
    };

    private static string Unquote(string cell) => cell.Replace("`", "", StringComparison.Ordinal).Trim();
}
