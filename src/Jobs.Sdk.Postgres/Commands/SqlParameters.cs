using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>Typed positional parameters (no boxing for values; NULLs typed so prepared statements stay valid).</summary>
internal static class SqlParameters
{
    public static NpgsqlParameter Text(string? value) => value is null
        ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text }
        : new NpgsqlParameter<string> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    public static NpgsqlParameter Uuid(Guid value) => new NpgsqlParameter<Guid> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Uuid };

    public static NpgsqlParameter Uuid(Guid? value) => value is { } v
        ? Uuid(v)
        : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid };

    public static NpgsqlParameter Integer(int value) => new NpgsqlParameter<int> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Integer };

    public static NpgsqlParameter Integer(int? value) => value is { } v
        ? Integer(v)
        : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer };

    public static NpgsqlParameter Smallint(short value) => new NpgsqlParameter<short> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Smallint };

    public static NpgsqlParameter Double(double value) => new NpgsqlParameter<double> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Double };

    public static NpgsqlParameter Double(double? value) => value is { } v
        ? Double(v)
        : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double };

    public static NpgsqlParameter Boolean(bool value) => new NpgsqlParameter<bool> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Boolean };

    public static NpgsqlParameter Timestamp(DateTimeOffset value)
        => new NpgsqlParameter<DateTime> { TypedValue = value.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    public static NpgsqlParameter Timestamp(DateTimeOffset? value) => value is { } v
        ? Timestamp(v)
        : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    /// <summary>A text[] of job names, or SQL NULL (any name).</summary>
    public static NpgsqlParameter Names(IReadOnlyList<string>? names)
        => names is null
            ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text }
            : Array(names as string[] ?? [.. names], NpgsqlDbType.Text);

    /// <summary>A PostgreSQL array of <paramref name="elementType"/>.</summary>
    public static NpgsqlParameter Array<T>(T[] values, NpgsqlDbType elementType)
        => new NpgsqlParameter<T[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | elementType };
}
