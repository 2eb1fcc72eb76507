using System.Buffers.Text;
using System.Text;

namespace Jobs.Sdk.Dashboard;

/// <summary>
/// Pages of a list the dashboard reads whole from the admin API (schedule entries, queues), as the jobs list pages its
/// jobs: at most a page per response, in the order of each item's sort key (ordinal), and an opaque cursor naming the last
/// key given, so items added or removed between two pages neither repeat nor shift the next one.
/// </summary>
internal static class CursorPaging
{
    /// <summary>
    /// The items whose key sorts after <paramref name="cursor"/>'s (from the first without one), at most
    /// <paramref name="limit"/>, and the next page's cursor (null on the last page).
    /// </summary>
    /// <param name="items">The whole list, in any order.</param>
    /// <param name="key">An item's sort key, unique in the list.</param>
    /// <param name="cursor">A cursor this method gave for the same list, or null/empty for the first page.</param>
    /// <param name="limit">The page's size.</param>
    /// <param name="what">What the list holds (<c>schedules</c>), named by the error of a cursor this endpoint did not give.</param>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor this endpoint gave.</exception>
    public static (IReadOnlyList<T> Items, string? NextCursor) Page<T>(IEnumerable<T> items, Func<T, string> key, string? cursor, int limit, string what)
    {
        var ordered = items.OrderBy(key, StringComparer.Ordinal);
        var after = string.IsNullOrEmpty(cursor) ? null : Decode(cursor, what);
        var rest = after is null ? ordered : ordered.SkipWhile(i => string.CompareOrdinal(key(i), after) <= 0);
        var page = rest.Take(limit + 1).ToList();
        if (page.Count <= limit)
        {
            return (page, null);
        }

        page.RemoveAt(limit);
        return (page, Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key(page[^1]))));
    }

    private static string Decode(string cursor, string what)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw new ArgumentException($"The {what} cursor '{cursor}' is not one this dashboard gave.", nameof(cursor));
        }
    }
}
