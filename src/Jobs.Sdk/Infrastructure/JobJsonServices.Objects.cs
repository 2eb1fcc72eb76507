using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

/// <summary>Reads the value of member <paramref name="member"/> of an object into the generated reader's state.</summary>
/// <typeparam name="TState">The generated state (one field per member).</typeparam>
/// <param name="reader">The reader, on the member's value.</param>
/// <param name="member">The member index in the object's <see cref="JobJsonObjectInfo"/>.</param>
/// <param name="state">The state to store the value in.</param>
public delegate void JobJsonMemberReader<TState>(ref Utf8JsonReader reader, int member, ref TState state);

/// <summary>Which members of an object a payload contained (returned by <see cref="JobJsonServices.ReadObject{TState}"/>).</summary>
public readonly struct JobJsonSeen
{
    private readonly ulong _bits;
    private readonly bool[]? _wide;

    internal JobJsonSeen(ulong bits, bool[]? wide)
    {
        _bits = bits;
        _wide = wide;
    }

    /// <summary>Whether the payload contained member <paramref name="member"/>.</summary>
    /// <param name="member">The member index.</param>
    /// <returns><see langword="true"/> when it was present.</returns>
    public bool Has(int member) => _wide is null ? (_bits & (1UL << member)) != 0 : _wide[member];
}

public static partial class JobJsonServices
{
    /// <summary>
    /// Reads one object: matches each property name against <paramref name="info"/>, lets the generated
    /// <paramref name="readMember"/> read known members into <paramref name="state"/>, skips unknown ones (a repeated
    /// member: the last value wins, as in System.Text.Json), names the member in any decode error, and fails when a
    /// required member is missing.
    /// </summary>
    /// <typeparam name="TState">The generated state.</typeparam>
    /// <param name="reader">The reader, on the object's start.</param>
    /// <param name="info">The object's members.</param>
    /// <param name="state">Receives the members' values.</param>
    /// <param name="readMember">The generated member reader.</param>
    /// <returns>Which members were present.</returns>
    public static JobJsonSeen ReadObject<TState>(ref Utf8JsonReader reader, JobJsonObjectInfo info, ref TState state, JobJsonMemberReader<TState> readMember)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(readMember);
        StartObject(ref reader);
        var wide = info.Count > 64 ? new bool[info.Count] : null;
        ulong bits = 0;
        var at = -1;
        try
        {
            while (NextProperty(ref reader, out var name))
            {
                at = info.Find(name);
                if (at < 0)
                {
                    reader.Skip();
                    continue;
                }

                readMember(ref reader, at, ref state);
                if (wide is null)
                {
                    bits |= 1UL << at;
                }
                else
                {
                    wide[at] = true;
                }
            }
        }
        catch (Exception exception) when (IsReadError(exception))
        {
            throw At(exception, at, info.Names);
        }

        var seen = new JobJsonSeen(bits, wide);
        foreach (var required in info.Required)
        {
            if (!seen.Has(required))
            {
                throw Missing(required, info.Names);
            }
        }

        return seen;
    }

    /// <summary>Reads an object whose members are all ignored: checks it is an object and skips its properties.</summary>
    /// <param name="reader">The reader, on the object's start.</param>
    public static void SkipObject(ref Utf8JsonReader reader)
    {
        StartObject(ref reader);
        while (NextProperty(ref reader, out _))
        {
            reader.Skip();
        }
    }

    /// <summary>Reads an array whose elements <paramref name="readItem"/> reads, naming the index in any decode error.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="reader">The reader, on the array's start.</param>
    /// <param name="readItem">Reads one element (not null unless the element type allows it).</param>
    /// <returns>The elements.</returns>
    public static List<T> ReadList<T>(ref Utf8JsonReader reader, JobJsonValueReader<T> readItem)
    {
        ArgumentNullException.ThrowIfNull(readItem);
        StartArray(ref reader);
        var list = new List<T>();
        var index = 0;
        try
        {
            for (; reader.Read() && reader.TokenType != JsonTokenType.EndArray; index++)
            {
                list.Add(readItem(ref reader));
            }
        }
        catch (Exception exception) when (IsReadError(exception))
        {
            throw AtIndex(exception, index);
        }

        return list;
    }

    /// <summary>Reads an object as a dictionary whose values <paramref name="readValue"/> reads, naming the key in any decode error.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="reader">The reader, on the object's start.</param>
    /// <param name="readValue">Reads one value (not null unless the value type allows it).</param>
    /// <returns>The entries (a repeated key: the last value wins).</returns>
    public static Dictionary<string, T> ReadDictionary<T>(ref Utf8JsonReader reader, JobJsonValueReader<T> readValue)
    {
        ArgumentNullException.ThrowIfNull(readValue);
        StartObject(ref reader);
        var dictionary = new Dictionary<string, T>();
        var key = "";
        try
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                key = reader.GetString()!;
                reader.Read();
                dictionary[key] = readValue(ref reader);
            }
        }
        catch (Exception exception) when (IsReadError(exception))
        {
            throw AtKey(exception, key);
        }

        return dictionary;
    }
}
