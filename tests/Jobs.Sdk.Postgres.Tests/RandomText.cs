namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Texts of a given length that no compression shrinks (hex digits of random GUIDs): keys and ids past a size limit.</summary>
internal static class RandomText
{
    /// <summary><paramref name="length"/> random hex digits (one UTF-8 byte each).</summary>
    public static string Of(int length) => string.Concat(Enumerable.Range(0, length / 32 + 1).Select(_ => Guid.NewGuid().ToString("N")))[..length];
}
