namespace Jobs.Sdk.Postgres;

/// <summary>
/// The driver's migrations, in order. Never edit a shipped migration: add a new one at the end. <c>{s}</c> is the
/// quoted schema, substituted once.
/// </summary>
internal static class MigrationScripts
{
    public static readonly (string Name, string Sql)[] All =
    [
        ("0001_create_jobs", CreateJobs),
        ("0002_create_schedule_fires", CreateScheduleFires),
        (AdminMigration.Name, AdminMigration.Sql),
        ("0004_lease_token", AddLeaseToken),
        ("0005_rolling_deploys", RollingDeploys),
        ("0006_count_job_states", CountJobStates),
        ("0007_unique_jobs", UniqueJobs),
        (ThroughputMigration.Name, ThroughputMigration.Sql),
        ("0009_concurrency_keys", ConcurrencyKeySql.Migration),
        (RateLimitMigration.Name, RateLimitMigration.Sql),
        (AdminListIndexMigration.Name, AdminListIndexMigration.Sql),
        (KeyAdmissionSql.Name, KeyAdmissionSql.Migration),
        (ScheduleUniqueKeyMigration.Name, ScheduleUniqueKeyMigration.Sql),
        (UniqueRetrySql.Name, UniqueRetrySql.Migration),
        (ScheduleConcurrencyKeyMigration.Name, ScheduleConcurrencyKeyMigration.Sql),
        (RetentionMigration.Name, RetentionMigration.Sql),
        (DeleteRequestedMigration.Name, DeleteRequestedMigration.Sql),
        (OperatorCancelSql.Name, OperatorCancelSql.Migration),
    ];

    // State codes match Jobs.Sdk.JobState: 0 pending, 1 processing, 2 retrying, 3 completed, 4 failed, 5 cancelled, 6 paused.
    private const string CreateJobs = """
        CREATE TABLE {s}.jobs (
            id               uuid        NOT NULL PRIMARY KEY,
            queue_name       text        NOT NULL,
            name             text        NOT NULL,
            payload          jsonb       NOT NULL,
            headers          jsonb,
            state            smallint    NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 6),
            paused_from      smallint,
            priority         smallint    NOT NULL DEFAULT 2,
            run_at           timestamptz NOT NULL DEFAULT now(),
            attempts         integer     NOT NULL DEFAULT 0,
            max_attempts     integer     NOT NULL DEFAULT 4,
            worker_id        text,
            lease_expires_at timestamptz,
            cancel_requested boolean     NOT NULL DEFAULT false,
            last_error       text,
            created_at       timestamptz NOT NULL DEFAULT now(),
            started_at       timestamptz,
            finished_at      timestamptz,
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON COLUMN {s}.jobs.state IS '0 pending, 1 processing, 2 retrying, 3 completed, 4 failed, 5 cancelled, 6 paused';
        -- The claim path: runnable rows only, in claim order. Finished history never enters this index.
        CREATE INDEX jobs_runnable_idx ON {s}.jobs (queue_name, priority DESC, run_at, id) WHERE state IN (0, 2);
        -- Everything else (processing, finished, paused): counts, cleanup by state and age, lease rescue. Partial on the
        -- complement of the runnable states, so the claim can only ever use jobs_runnable_idx (ordered, no sort).
        CREATE INDEX jobs_queue_state_idx ON {s}.jobs (queue_name, state, updated_at) WHERE state NOT IN (0, 2);
        """;

    /// <summary>
    /// The per-attempt error history (<c>JobInfo.Errors</c>): a nullable column, so older code keeps working against it.
    /// </summary>
    private const string RollingDeploys = """
        -- jobs:compatible-from 0002_create_schedule_fires
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS errors jsonb;
        """;

    /// <summary>
    /// Unique jobs (<c>[Job(Unique = true)]</c>): the key a row holds and how long it holds after the job finished. Nullable
    /// columns (older code inserts NULL: never unique) and a partial unique index that only holds keyed rows, so the index
    /// stays small and ordinary pushes never touch it.
    /// </summary>
    private const string UniqueJobs = """
        -- jobs:compatible-from 0002_create_schedule_fires
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS unique_key text;
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS unique_for interval;
        CREATE UNIQUE INDEX IF NOT EXISTS jobs_unique_key_idx ON {s}.jobs (queue_name, unique_key) WHERE unique_key IS NOT NULL;
        """;

    private const string CreateScheduleFires = """
        CREATE TABLE {s}.schedule_fires (
            queue_name text        NOT NULL,
            entry_key  text        NOT NULL,
            fire_time  timestamptz NOT NULL,
            job_id     uuid        NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (queue_name, entry_key, fire_time)
        );
        """;

    // A new uuid on every claim (NULL when not claimed): outcomes, renewals and rescues check it, so a late or replayed
    // report of an earlier claim never touches a later one. Rows claimed by older code (NULL token) are rescued when
    // their lease expires. Nullable, no default: adding it rewrites nothing.
    private const string AddLeaseToken = """
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS lease_token uuid;
        """;

    // Per-state counts without counting rows (read by CountSql): every statement that changes jobs appends one delta row
    // per (queue, state) it changed, from statement-level triggers with transition tables. Append-only: a writer never
    // waits for another (there is no counter row to lock), so a user's long transaction that pushes a job holds nothing
    // a worker needs. Existing rows are counted once, under the lock CREATE TRIGGER takes.
    private const string CountJobStates = """
        -- jobs:compatible-from 0005_rolling_deploys
        CREATE TABLE {s}.job_state_counts (
            queue_name text     NOT NULL,
            state      smallint NOT NULL,
            n          bigint   NOT NULL
        ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0,
                autovacuum_analyze_threshold = 1000);
        CREATE INDEX job_state_counts_queue_idx ON {s}.job_state_counts (queue_name);
        CREATE FUNCTION {s}.jobs_count_states() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO {s}.job_state_counts (queue_name, state, n)
                SELECT queue_name, state, count(*) FROM new_rows GROUP BY queue_name, state;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO {s}.job_state_counts (queue_name, state, n)
                SELECT queue_name, state, -count(*) FROM old_rows GROUP BY queue_name, state;
            ELSE
                INSERT INTO {s}.job_state_counts (queue_name, state, n)
                SELECT queue_name, state, sum(d) FROM (
                    SELECT queue_name, state, -1 AS d FROM old_rows
                    UNION ALL
                    SELECT queue_name, state, 1 FROM new_rows
                ) changed
                GROUP BY queue_name, state HAVING sum(d) <> 0;
            END IF;
            RETURN NULL;
        END
        $fn$;
        CREATE FUNCTION {s}.jobs_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            DELETE FROM {s}.job_state_counts;
            RETURN NULL;
        END
        $fn$;
        LOCK TABLE {s}.jobs IN SHARE ROW EXCLUSIVE MODE;
        CREATE TRIGGER jobs_count_insert AFTER INSERT ON {s}.jobs REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.jobs_count_states();
        CREATE TRIGGER jobs_count_update AFTER UPDATE ON {s}.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.jobs_count_states();
        CREATE TRIGGER jobs_count_delete AFTER DELETE ON {s}.jobs REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.jobs_count_states();
        CREATE TRIGGER jobs_count_truncate AFTER TRUNCATE ON {s}.jobs
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.jobs_count_truncate();
        INSERT INTO {s}.job_state_counts (queue_name, state, n) SELECT queue_name, state, count(*) FROM {s}.jobs GROUP BY queue_name, state;
        """;
}
