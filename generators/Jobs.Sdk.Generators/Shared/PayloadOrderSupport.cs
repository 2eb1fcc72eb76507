namespace Jobs.Sdk.Generators.Shared;

/// <summary>
/// Which payload members the generated writer can put in one canonical order. A dictionary enumerates in the order it
/// was filled in, and so does a set; the payload of a unique job without key members is its key, so the writer sorts
/// dictionaries by key and sets whose elements have a natural order. The generator and the analyzer (JOBS054) share it.
/// </summary>
internal static class PayloadOrderSupport
{
    /// <summary>
    /// Elements the runtime sorts by their default order (strings ordinally): the order their equality tells apart,
    /// so one set content has one written form.
    /// </summary>
    public static bool IsSimplyOrdered(JsonTypeKind kind) => kind is JsonTypeKind.Boolean
        or JsonTypeKind.Byte or JsonTypeKind.SByte or JsonTypeKind.Int16 or JsonTypeKind.UInt16 or JsonTypeKind.Int32 or JsonTypeKind.UInt32
        or JsonTypeKind.Int64 or JsonTypeKind.UInt64 or JsonTypeKind.IntPtr or JsonTypeKind.UIntPtr
        or JsonTypeKind.Single or JsonTypeKind.Double or JsonTypeKind.Decimal or JsonTypeKind.Char or JsonTypeKind.String or JsonTypeKind.Guid
        or JsonTypeKind.DateTime or JsonTypeKind.DateTimeOffset or JsonTypeKind.DateOnly or JsonTypeKind.TimeOnly or JsonTypeKind.TimeSpan
        or JsonTypeKind.Enum;
}
