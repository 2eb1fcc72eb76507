using System.Text.Json;

namespace Jobs.Sdk;

/// <summary>
/// Which member of a job a push's payload was writing when its writer stopped: the last property of the payload's own
/// object in what was written so far, so that a refusal names it (a job's JsonSerializerContext writes a member's value
/// with no knowledge of the member).
/// </summary>
internal static class PayloadMember
{
    /// <summary>The last top-level property name in <paramref name="written"/> (a payload cut anywhere), or null when there is none.</summary>
    public static string? LastWritten(ReadOnlySpan<byte> written)
    {
        var reader = new Utf8JsonReader(written, isFinalBlock: false, state: default);
        string? member = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    member = reader.GetString();
                }
            }
        }
        catch (JsonException)
        {
            // What was written before the failure is all that is read; a token cut short ends the look.
        }

        return member;
    }
}
