namespace Jobs.Sdk.Postgres;

/// <summary>SQL of the migrations table. <c>{s}</c> is the quoted schema.</summary>
internal static class MigrationSql
{
    public const string CreateSchemaAndTable = """
        CREATE SCHEMA IF NOT EXISTS {s};
        CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
            version    integer     NOT NULL PRIMARY KEY,
            name       text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>$1: advisory lock key. Held until the migration transaction ends.</summary>
    public const string Lock = "SELECT pg_advisory_xact_lock($1)";

    /// <summary>$1: schema name (unquoted). Whether the migrations table exists.</summary>
    public const string TableExists = "SELECT to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL";

    public const string Applied = "SELECT version, name FROM {s}.schema_migrations ORDER BY version";

    /// <summary>$1: version, $2: name.</summary>
    public const string Record = "INSERT INTO {s}.schema_migrations (version, name) VALUES ($1, $2)";
}
