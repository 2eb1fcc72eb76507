namespace Jobs.Sdk.Postgres;

/// <summary>SQL of the migrations table. <c>{s}</c> is the quoted schema.</summary>
internal static class MigrationSql
{
    /// <summary>
    /// The schema (only when missing: <c>CREATE SCHEMA IF NOT EXISTS</c> needs <c>CREATE</c> on the database even when the
    /// schema exists, which a role that owns a schema its DBA made for it does not have) and the migrations table.
    /// </summary>
    public const string CreateSchemaAndTable = """
        DO $jobs_schema$
        BEGIN
            IF to_regnamespace('{s}') IS NULL THEN
                CREATE SCHEMA IF NOT EXISTS {s};
            END IF;
        END
        $jobs_schema$;
        CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
            version    integer     NOT NULL PRIMARY KEY,
            name       text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        -- The oldest schema version whose code runs against this migration (rolling deploys, rollbacks).
        ALTER TABLE {s}.schema_migrations ADD COLUMN IF NOT EXISTS compatible_from integer;
        """;

    /// <summary>$1: advisory lock key, held by the migrating session until <see cref="SessionUnlock"/>.</summary>
    public const string SessionLock = "SELECT pg_advisory_lock($1)";

    /// <summary>$1: advisory lock key.</summary>
    public const string SessionUnlock = "SELECT pg_advisory_unlock($1)";

    /// <summary>
    /// The recorded migrations. Reads compatible_from through to_jsonb so that the same statement works on a table made
    /// before that column existed (and needs no DDL: the verification a DML-only role can run).
    /// </summary>
    public const string Applied = "SELECT version, name, (to_jsonb(m) ->> 'compatible_from')::integer FROM {s}.schema_migrations m ORDER BY version";
}
