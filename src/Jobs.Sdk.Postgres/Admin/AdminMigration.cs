namespace Jobs.Sdk.Postgres;

/// <summary>
/// Migration 0003: the tables behind <see cref="JobAdmin"/> and the <c>jobs</c> CLI, and the index of the admin job list.
/// Appended to <see cref="MigrationScripts.All"/>; never edit it once shipped.
/// </summary>
internal static class AdminMigration
{
    public const string Name = "0003_create_admin_tables";

    // queues:    cluster-wide queue state (pause); the claim statement checks it with one primary-key probe.
    // workers:   live worker presence (upserted on start and every heartbeat, deleted on graceful stop; expired rows are ignored).
    // schedules: schedule entries published by schedulers, with their job template (trigger from tools) and pause flag.
    // audit_log: every mutating admin call.
    // jobs_admin_list_idx: the admin list "queue + state, newest first" reads it in order (keyset by id, no sort) for the
    //   states that are not runnable. Partial on the complement of the claim's states, so a claim can never choose it over
    //   jobs_runnable_idx (runnable rows are listed through jobs_runnable_idx or the primary key). Migration 0011
    //   (AdminListIndexMigration) takes the processing rows out of it as well.
    public const string Sql = """
        CREATE TABLE {s}.queues (
            name       text        NOT NULL PRIMARY KEY,
            paused     boolean     NOT NULL DEFAULT false,
            reason     text,
            paused_at  timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE {s}.workers (
            id           text        NOT NULL PRIMARY KEY,
            host         text        NOT NULL,
            pid          integer     NOT NULL,
            started_at   timestamptz NOT NULL,
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz NOT NULL,
            queues       text[]      NOT NULL,
            job_names    text[]      NOT NULL,
            running      integer     NOT NULL DEFAULT 0,
            concurrency  integer     NOT NULL DEFAULT 0
        );
        CREATE TABLE {s}.schedules (
            queue_name   text        NOT NULL,
            entry_key    text        NOT NULL,
            job_name     text        NOT NULL,
            description  text        NOT NULL,
            payload      jsonb       NOT NULL,
            priority     smallint    NOT NULL DEFAULT 2,
            max_attempts integer     NOT NULL DEFAULT 4,
            next_fire    timestamptz,
            paused       boolean     NOT NULL DEFAULT false,
            seen_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (queue_name, entry_key)
        );
        CREATE TABLE {s}.audit_log (
            id           bigserial   NOT NULL PRIMARY KEY,
            at           timestamptz NOT NULL DEFAULT now(),
            actor        text,
            action       text        NOT NULL,
            target       text        NOT NULL,
            reason       text,
            rows_changed integer     NOT NULL DEFAULT 0
        );
        CREATE INDEX jobs_admin_list_idx ON {s}.jobs (queue_name, state, id DESC) WHERE state NOT IN (0, 2);
        """;
}
