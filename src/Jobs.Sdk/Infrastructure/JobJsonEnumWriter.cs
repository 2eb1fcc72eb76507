using System.ComponentModel;
using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// Writes the members of one enum type by name: generated code creates one per enum a job uses, with the members'
/// values and JSON names in declaration order. A value that is not a single named member (a <c>[Flags]</c> combination
/// or an undefined number) is written as <see cref="JobJsonServices.WriteEnum{TEnum}"/> writes it. Not meant for
/// application code.
/// </summary>
/// <typeparam name="TEnum">The enum type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class JobJsonEnumWriter<TEnum>
    where TEnum : struct, Enum
{
    private readonly TEnum[] _values;
    private readonly JsonEncodedText[] _names;

    /// <summary>Creates the writer.</summary>
    /// <param name="values">The named members' values, in declaration order.</param>
    /// <param name="names">Their names, in the same order.</param>
    public JobJsonEnumWriter(TEnum[] values, string[] names)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(names);
        if (values.Length != names.Length)
        {
            throw new ArgumentException("Every value needs exactly one name.", nameof(names));
        }

        _values = values;
        _names = new JsonEncodedText[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            _names[i] = JsonEncodedText.Encode(names[i]);
        }
    }

    /// <summary>Writes <paramref name="value"/> as a JSON string: the first member with that value, or its text form.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public void Write(Utf8JsonWriter writer, TEnum value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var values = _values;
        for (var i = 0; i < values.Length; i++)
        {
            if (EqualityComparer<TEnum>.Default.Equals(values[i], value))
            {
                writer.WriteStringValue(_names[i]);
                return;
            }
        }

        JobJsonServices.WriteEnum(writer, value);
    }
}
