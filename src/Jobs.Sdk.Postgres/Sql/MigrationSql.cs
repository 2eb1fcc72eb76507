namespace Jobs.Sdk.Postgres;

/// <summary>SQL of the migrations table. <c>{s}</c> is the quoted schema.</summary>
internal static class MigrationSql
{
    /// <summary>
    /// The schema, the migrations table and its <c>compatible_from</c> column, each only when missing: run by a process that
    /// waited for the migration lock while another applied everything, this changes nothing and needs no privilege
    /// (<c>CREATE SCHEMA IF NOT EXISTS</c> needs <c>CREATE</c> on the database, <c>CREATE TABLE IF NOT EXISTS</c> on the
    /// schema and <c>ALTER TABLE ... IF NOT EXISTS</c> the table's ownership even when there is nothing to do), so a role
    /// that owns a schema its DBA made for it installs it, and a DML-only role that found a migration pending starts once
    /// another process applied it.
    /// </summary>
    public const string CreateSchemaAndTable = """
        DO $jobs_schema$
        BEGIN
            IF to_regnamespace('{s}') IS NULL THEN
                CREATE SCHEMA IF NOT EXISTS {s};
            END IF;
            IF to_regclass('{s}.schema_migrations') IS NULL THEN
                CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
                    version    integer     NOT NULL PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
            END IF;
            -- The oldest schema version whose code runs against this migration (rolling deploys, rollbacks).
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                           WHERE attrelid = to_regclass('{s}.schema_migrations') AND attname = 'compatible_from' AND NOT attisdropped) THEN
                ALTER TABLE {s}.schema_migrations ADD COLUMN IF NOT EXISTS compatible_from integer;
            END IF;
        END
        $jobs_schema$;
        """;

    /// <summary>$1: a schema-qualified index name; true when it exists and is not valid (a concurrent build that failed part-way).</summary>
    public const string IndexInvalid = "SELECT NOT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = to_regclass($1)";

    /// <summary>
    /// $1: the migrating session's pid. The sessions its concurrent index build waits for (<c>pg_blocking_pids</c>: the
    /// transactions older than its snapshots, or writing the table), with what <c>pg_stat_activity</c> shows of them (null
    /// columns for another role's sessions without <c>pg_read_all_stats</c>) and the build's phase; no rows when it waits
    /// for nothing.
    /// </summary>
    public const string IndexBuildBlockers = """
        SELECT b.pid, a.application_name, a.state, extract(epoch FROM clock_timestamp() - a.xact_start)::float8, p.phase
        FROM unnest(pg_catalog.pg_blocking_pids($1)) AS b(pid)
        LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = b.pid
        LEFT JOIN pg_catalog.pg_stat_progress_create_index p ON p.pid = $1
        ORDER BY a.xact_start NULLS LAST, b.pid
        """;

    /// <summary>
    /// $1: the quoted schema; $2: the lock timeout in milliseconds. The other sessions holding locks on the schema's tables
    /// in transactions open at least that long (those a migration's DDL waited for until its lock timeout), one row per
    /// session: pid, what <c>pg_stat_activity</c> shows of it (null columns for another role's session without
    /// <c>pg_read_all_stats</c>), and its locks (<c>AccessShareLock on jobs, ...</c>).
    /// </summary>
    public const string TableLockHolders = """
        SELECT l.pid, a.application_name, a.state, extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
               string_agg(l.mode || ' on ' || c.relname, ', ' ORDER BY c.relname, l.mode)
        FROM pg_catalog.pg_locks l
        JOIN pg_catalog.pg_class c ON c.oid = l.relation AND c.relkind IN ('r', 'p')
        LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid()
          AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())
          AND c.relnamespace = to_regnamespace($1)
          AND (a.xact_start IS NULL OR a.xact_start <= clock_timestamp() - $2 * interval '1 millisecond')
        GROUP BY l.pid, a.application_name, a.state, a.xact_start
        ORDER BY a.xact_start NULLS LAST, l.pid
        """;

    /// <summary>
    /// $1: the quoted schema. The role connected, and the owners of the schema's tables (of the schema itself when it has
    /// none; null when it does not exist), comma-separated.
    /// </summary>
    public const string SchemaOwners = """
        SELECT current_user::text,
               coalesce((SELECT string_agg(DISTINCT pg_catalog.pg_get_userbyid(c.relowner), ', ') FROM pg_catalog.pg_class c
                         WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p')),
                        (SELECT pg_catalog.pg_get_userbyid(n.nspowner) FROM pg_catalog.pg_namespace n WHERE n.oid = to_regnamespace($1)))
        """;

    /// <summary>What the error of <see cref="DirectOnly"/> names (an unknown setting, SQLSTATE 42704).</summary>
    public const string PoolerMarker = "jobs.migrations_need_a_direct_connection_not_a_pooler";

    /// <summary>
    /// Fails (42704, naming <see cref="PoolerMarker"/>) unless the server process is $1, the one the connection announced
    /// when it opened: behind a pooler (PgBouncer) it is not, and a session lock taken there would be left on a pooled
    /// server session. <c>current_setting</c> is not folded at planning time, so a direct connection never raises it.
    /// </summary>
    public const string DirectOnly = "SELECT CASE WHEN pg_backend_pid() = $1 THEN 1 ELSE current_setting('" + PoolerMarker + "')::integer END";

    /// <summary>
    /// $1: advisory lock key, held by the migrating session until <see cref="SessionUnlock"/>; true when taken. Tried, not
    /// waited for: a session waiting in <c>pg_advisory_lock</c> holds a snapshot that the holder's
    /// <c>CREATE INDEX CONCURRENTLY</c> waits for (a deadlock).
    /// </summary>
    public const string SessionTryLock = "SELECT pg_try_advisory_lock($1)";

    /// <summary>$1: advisory lock key.</summary>
    public const string SessionUnlock = "SELECT pg_advisory_unlock($1)";

    /// <summary>
    /// The recorded migrations. Reads compatible_from through to_jsonb so that the same statement works on a table made
    /// before that column existed (and needs no DDL: the verification a DML-only role can run).
    /// </summary>
    public const string Applied = "SELECT version, name, (to_jsonb(m) ->> 'compatible_from')::integer FROM {s}.schema_migrations m ORDER BY version";
}
