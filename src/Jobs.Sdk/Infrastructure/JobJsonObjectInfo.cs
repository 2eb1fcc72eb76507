using System.ComponentModel;
using System.Text;
using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// What the runtime needs to know about one generated object reader and writer: the members' CLR and JSON names (for
/// matching property names, writing them, and naming members in decode errors) and which members a payload must
/// contain. Generated code creates one per object type; not meant for application code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class JobJsonObjectInfo
{
    private readonly byte[]?[] _utf8;
    private readonly JsonEncodedText[] _encoded;

    /// <summary>Creates the description of one object type.</summary>
    /// <param name="names">The members' CLR and JSON names, interleaved (<c>[member0, json0, member1, json1, ...]</c>).</param>
    /// <param name="required">The indexes of the members a payload must contain, ascending.</param>
    /// <param name="writeOnly">The indexes of members that are written but never read (their names never match).</param>
    public JobJsonObjectInfo(string[] names, int[] required, int[]? writeOnly = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(required);
        Names = names;
        Required = required;
        var count = names.Length / 2;
        _utf8 = new byte[count][];
        _encoded = new JsonEncodedText[count];
        for (var i = 0; i < count; i++)
        {
            _utf8[i] = Encoding.UTF8.GetBytes(names[(2 * i) + 1]);
            _encoded[i] = JsonEncodedText.Encode(names[(2 * i) + 1]);
        }

        foreach (var i in writeOnly ?? Array.Empty<int>())
        {
            _utf8[i] = null;
        }
    }

    /// <summary>The members' CLR and JSON names, interleaved.</summary>
    public string[] Names { get; }

    /// <summary>The indexes of the required members, ascending.</summary>
    public int[] Required { get; }

    /// <summary>The number of members.</summary>
    public int Count => _encoded.Length;

    /// <summary>The encoded JSON name of member <paramref name="index"/>, for writing.</summary>
    /// <param name="index">The member index.</param>
    /// <returns>The encoded name.</returns>
    public JsonEncodedText this[int index] => _encoded[index];

    /// <summary>The index of the member whose JSON name is exactly <paramref name="name"/> (case-sensitive), or -1.</summary>
    /// <param name="name">A property name, unescaped UTF-8.</param>
    /// <returns>The member index, or -1 for an unknown property.</returns>
    public int Find(ReadOnlySpan<byte> name)
    {
        var table = _utf8;
        for (var i = 0; i < table.Length; i++)
        {
            if (table[i] is { } candidate && candidate.Length == name.Length && name.SequenceEqual(candidate))
            {
                return i;
            }
        }

        return -1;
    }
}
