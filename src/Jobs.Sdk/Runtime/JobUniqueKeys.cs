using System.Security.Cryptography;
using System.Text;

namespace Jobs.Sdk;

/// <summary>
/// The stored form of a unique key: a SHA-256 of the job name and the key text (or the payload when the job type marks
/// no key member), hex-encoded, so keys of different job types never collide and every key fits an index entry.
/// </summary>
internal static class JobUniqueKeys
{
    public static string Scoped(string jobName, string? key, ReadOnlyMemory<byte> payload)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(jobName));
        if (key is null)
        {
            hash.AppendData([0, (byte)'p']);
            hash.AppendData(payload.Span);
        }
        else
        {
            hash.AppendData([0, (byte)'k']);
            hash.AppendData(Encoding.UTF8.GetBytes(key));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
