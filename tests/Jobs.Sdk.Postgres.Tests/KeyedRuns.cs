using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The table where the test worker's keyed handler (KeyedRecordJob, see its Program.cs) records each run: a row when the
/// handler starts and its end when the handler's work is done. An end closes only the job's latest run.
/// </summary>
internal static class KeyedRuns
{
    /// <summary>Creates <c>jobs_test.{table}_keyed</c> beside the runs table <paramref name="table"/>.</summary>
    public static Task CreateAsync(NpgsqlDataSource db, string table) => db.ExecAsync($"""
        CREATE TABLE jobs_test.{table}_keyed (job_id uuid NOT NULL, n int NOT NULL, worker text NOT NULL, run uuid NOT NULL UNIQUE, started_at timestamptz NOT NULL, ended_at timestamptz);
        CREATE FUNCTION jobs_test.{table}_latest() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          IF OLD.ended_at IS NOT NULL OR EXISTS (SELECT 1 FROM jobs_test.{table}_keyed k WHERE k.job_id = OLD.job_id AND k.started_at > OLD.started_at) THEN RETURN NULL; END IF;
          RETURN NEW; END $$;
        CREATE TRIGGER latest BEFORE UPDATE ON jobs_test.{table}_keyed FOR EACH ROW EXECUTE FUNCTION jobs_test.{table}_latest();
        """);
}
