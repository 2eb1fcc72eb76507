namespace Jobs.Sdk.Infrastructure;

public static partial class JobJsonServices
{
    /// <summary>
    /// The entries of a dictionary sorted by key (ordinal), for writing. A dictionary enumerates in the order it was
    /// filled in; the payload of a unique job without key members is its key, so two pushers of the same content must
    /// write the same bytes.
    /// </summary>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="entries">The dictionary.</param>
    /// <returns>A new array of its entries, sorted by key.</returns>
    public static KeyValuePair<string, TValue>[] SortedByKey<TValue>(IEnumerable<KeyValuePair<string, TValue>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sorted = entries.ToArray();
        if (sorted.Length > 1)
        {
            // Keys are distinct, so the (unstable) sort has one result.
            Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        }

        return sorted;
    }

    /// <summary>
    /// The elements of a set sorted, for writing (see <see cref="SortedByKey"/>): strings in ordinal order, other
    /// elements by <see cref="Comparer{T}.Default"/>. Generated code calls it only for sets of simply ordered elements
    /// (numbers, bool, char, string, Guid, enums, dates and times, and their nullable forms), which the default
    /// comparer orders as their equality tells them apart.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="elements">The set.</param>
    /// <returns>A new array of its elements, sorted.</returns>
    public static T[] Sorted<T>(IEnumerable<T> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        var sorted = elements.ToArray();
        if (sorted.Length > 1)
        {
            // Comparer<string>.Default compares by culture: the order would depend on the pusher's machine.
            Array.Sort(sorted, typeof(T) == typeof(string) ? (IComparer<T>)(object)StringComparer.Ordinal : Comparer<T>.Default);
        }

        return sorted;
    }
}
