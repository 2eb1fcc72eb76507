using System.Globalization;

namespace Jobs.Sdk;

/// <summary>
/// The keyset position behind a <see cref="JobPage.NextCursor"/>: the last row of a page, in the page's order.
/// Text form: <c>n.{id}</c> (newest first) or <c>r.{run-at UTC ticks}.{id}</c> (by run time). Opaque to callers.
/// </summary>
internal readonly record struct JobCursor(JobOrder Order, JobId Id, DateTimeOffset RunAt)
{
    public static string For(JobOrder order, JobSummary last) => order == JobOrder.RunAt
        ? string.Create(CultureInfo.InvariantCulture, $"r.{last.RunAt.UtcTicks}.{last.Id.Value:N}")
        : string.Create(CultureInfo.InvariantCulture, $"n.{last.Id.Value:N}");

    /// <summary>Parses <paramref name="text"/>; throws <see cref="ArgumentException"/> when it is not a cursor of <paramref name="order"/>.</summary>
    public static JobCursor Parse(string text, JobOrder order)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('.');
        if (order == JobOrder.Newest && parts is ["n", var id] && Guid.TryParseExact(id, "N", out var g))
        {
            return new JobCursor(order, new JobId(g), default);
        }

        if (order == JobOrder.RunAt && parts is ["r", var ticks, var id2] && Guid.TryParseExact(id2, "N", out var g2)
            && long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var t) && t <= DateTimeOffset.MaxValue.UtcTicks)
        {
            return new JobCursor(order, new JobId(g2), new DateTimeOffset(t, TimeSpan.Zero));
        }

        throw new ArgumentException(
            $"JobQuery.Cursor '{text}' is not a cursor of a {order} page. Pass the NextCursor of the previous page unchanged, with the same Order.",
            "query");
    }
}
