using System.Globalization;
using System.Text;

namespace Jobs.Sdk.Cli;

/// <summary>A plain-text table for humans: left-aligned columns, a header row, cells cut at a maximum width.</summary>
internal sealed class Table(params string[] headers)
{
    private const int MaxCell = 60;
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params string?[] cells) => _rows.Add(cells.Select(c => Cut(c ?? "")).ToArray());

    public void WriteTo(TextWriter writer)
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
        {
            for (var i = 0; i < widths.Length && i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        WriteRow(writer, headers, widths);
        foreach (var row in _rows)
        {
            WriteRow(writer, row, widths);
        }
    }

    public static string Time(DateTimeOffset? value) => value is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";

    public static string Age(TimeSpan? value) => value switch
    {
        null => "-",
        { TotalSeconds: < 120 } v => $"{v.TotalSeconds:0}s",
        { TotalMinutes: < 120 } v => $"{v.TotalMinutes:0}m",
        { TotalHours: < 48 } v => $"{v.TotalHours:0}h",
        { } v => $"{v.TotalDays:0}d",
    };

    private static string Cut(string text)
    {
        text = text.ReplaceLineEndings(" ");
        return text.Length <= MaxCell ? text : string.Concat(text.AsSpan(0, MaxCell - 1), "…");
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < widths.Length; i++)
        {
            var cell = i < cells.Length ? cells[i] : "";
            line.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
        }

        writer.WriteLine(line.ToString().TrimEnd());
    }
}
