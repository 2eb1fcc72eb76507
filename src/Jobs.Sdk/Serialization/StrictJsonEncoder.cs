using System.Buffers;
using System.Text.Encodings.Web;

namespace Jobs.Sdk;

/// <summary>
/// The job writer's encoder: <see cref="JavaScriptEncoder.Default"/> (the same bytes as no encoder), except that a string
/// with an unpaired surrogate is refused instead of written with U+FFFD in its place. The generated serializer checks its
/// own strings; this also covers what a job's JsonSerializerContext writes (values and dictionary keys of the types it
/// handles), which the generated code never sees.
/// </summary>
internal sealed class StrictJsonEncoder : JavaScriptEncoder
{
    public static readonly StrictJsonEncoder Instance = new();

    private static readonly JavaScriptEncoder Inner = Default;

    private StrictJsonEncoder()
    {
    }

    public override int MaxOutputCharactersPerInputCharacter => Inner.MaxOutputCharactersPerInputCharacter;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength) => Inner.FindFirstCharacterToEncode(text, textLength);

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text) => Inner.FindFirstCharacterToEncodeUtf8(utf8Text);

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
        => Inner.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);

    public override bool WillEncode(int unicodeScalar) => Inner.WillEncode(unicodeScalar);

    /// <summary>
    /// Utf8JsonWriter calls this with a string from its first character that needs escaping (an unpaired surrogate always
    /// does); a high surrogate ending a block that is not the last may be paired in the next one.
    /// </summary>
    public override OperationStatus Encode(ReadOnlySpan<char> source, Span<char> destination, out int charsConsumed, out int charsWritten, bool isFinalBlock = true)
    {
        for (var i = 0; i < source.Length; i++)
        {
            if (char.IsHighSurrogate(source[i]) && i + 1 < source.Length && char.IsLowSurrogate(source[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(source[i]) && (isFinalBlock || i + 1 < source.Length))
            {
                throw new UnpairedSurrogateException(source[i]);
            }
        }

        return Inner.Encode(source, destination, out charsConsumed, out charsWritten, isFinalBlock);
    }

    public override OperationStatus EncodeUtf8(ReadOnlySpan<byte> utf8Source, Span<byte> utf8Destination, out int bytesConsumed, out int bytesWritten, bool isFinalBlock = true)
        => Inner.EncodeUtf8(utf8Source, utf8Destination, out bytesConsumed, out bytesWritten, isFinalBlock);

    /// <summary>A string the job's writer was given holds an unpaired surrogate; <see cref="JobSerializer"/> names the job.</summary>
    internal sealed class UnpairedSurrogateException(char surrogate)
        : ArgumentException("A string contains an unpaired surrogate (U+" + ((int)surrogate).ToString("X4", System.Globalization.CultureInfo.InvariantCulture) + ").")
    {
        public char Surrogate { get; } = surrogate;
    }
}
