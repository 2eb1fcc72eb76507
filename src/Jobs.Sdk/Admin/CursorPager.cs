using System.Buffers.Text;
using System.Text;

namespace Jobs.Sdk;

/// <summary>
/// Pages of a list of the admin API (schedule entries: <see cref="SchedulePage"/>; queues: <see cref="QueuePage"/>), read
/// a page at a time from a store that can (<see cref="Drivers.IPagedAdminCatalogs"/>: <see cref="Slice"/>) or whole (<see cref="Page"/>),
/// as the jobs list pages its jobs: at most a page at a time, in the order of each item's sort key (ordinal), and an opaque
/// cursor naming the last key given (its UTF-8, Base64Url), so items added or removed between two pages neither repeat nor
/// shift the next one. The one pager of those lists, so a list's cursors and errors are the same wherever it is paged.
/// </summary>
/// <param name="what">What the list holds (<c>queues</c>), as a cursor's error names it.</param>
/// <param name="key">An item's sort key, unique in the list.</param>
/// <param name="isKey">Whether a decoded cursor can be a key of this list (a cursor another list gave is refused).</param>
internal sealed class CursorPager<T>(string what, Func<T, string> key, Func<string, bool> isKey)
{
    /// <summary>Decodes a cursor strictly: bytes that are not UTF-8 are not a key any page gave.</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Refuses a page size other than 1 to <see cref="JobQuery.MaxLimit"/> (as the jobs list's).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is out of range.</exception>
    public static void CheckLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, JobQuery.MaxLimit);
    }

    /// <summary>
    /// The key <paramref name="cursor"/> names, or <see langword="null"/> for the first page (no cursor, or an empty one).
    /// Checked before the list is read, so a mistyped cursor costs no read of the store.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor a page of this list gave.</exception>
    public string? After(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = StrictUtf8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw NotACursor(cursor);
        }
        catch (DecoderFallbackException)
        {
            throw NotACursor(cursor);
        }

        return isKey(decoded) ? decoded : throw NotACursor(cursor);
    }

    /// <summary>
    /// The items whose key sorts after <paramref name="after"/> (from the first when null), at most <paramref name="limit"/>,
    /// and the next page's cursor (<see langword="null"/> on the last page).
    /// </summary>
    /// <param name="items">The whole list, in any order.</param>
    /// <param name="after">The key of <see cref="After"/>.</param>
    /// <param name="limit">The page's size (<see cref="CheckLimit"/>).</param>
    public (List<T> Items, string? NextCursor) Page(IEnumerable<T> items, string? after, int limit)
    {
        ArgumentNullException.ThrowIfNull(items);
        CheckLimit(limit);
        var ordered = items.OrderBy(key, StringComparer.Ordinal);
        var rest = after is null ? ordered : ordered.SkipWhile(i => string.CompareOrdinal(key(i), after) <= 0);
        return Slice(rest.Take(limit + 1), limit);
    }

    /// <summary>
    /// The page of a list's items that a store read a page of (<see cref="Drivers.IPagedAdminCatalogs"/>): its first
    /// <paramref name="limit"/> items, and the next page's cursor when it holds more (the store read <c>limit + 1</c>),
    /// written as <see cref="Page"/> writes it, so a cursor names the same key whoever cut the page.
    /// </summary>
    /// <param name="items">The items after <see cref="After"/>'s key, in the list's order, at most <paramref name="limit"/> + 1.</param>
    /// <param name="limit">The page's size (<see cref="CheckLimit"/>).</param>
    public (List<T> Items, string? NextCursor) Slice(IEnumerable<T> items, int limit)
    {
        ArgumentNullException.ThrowIfNull(items);
        CheckLimit(limit);
        var page = items.Take(limit + 1).ToList();
        if (page.Count <= limit)
        {
            return (page, null);
        }

        page.RemoveAt(limit);
        return (page, Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key(page[^1]))));
    }

    private ArgumentException NotACursor(string cursor)
        => new($"The {what} cursor '{cursor}' is not one a page of {what} gave: pass the next page's cursor a page gave, unchanged, "
            + "or none for the first page.", nameof(cursor));
}
