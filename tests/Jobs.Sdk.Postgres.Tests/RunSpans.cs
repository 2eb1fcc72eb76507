using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The table where the test worker's RecordJob handler (see its Program.cs; with spans on) records the span of each run:
/// a row when the handler starts and its end once its work is done. A job run again has a span per run (no key on the
/// job), and an end closes only the job's latest span.
/// </summary>
internal static class RunSpans
{
    /// <summary>Creates <c>jobs_test.{table}_spans</c> beside the runs table <paramref name="table"/>.</summary>
    public static Task CreateAsync(NpgsqlDataSource db, string table) => db.ExecAsync($"""
        CREATE TABLE jobs_test.{table}_spans (job_id uuid NOT NULL, queue text NOT NULL, run uuid NOT NULL UNIQUE, started_at timestamptz NOT NULL, ended_at timestamptz);
        CREATE FUNCTION jobs_test.{table}_latest() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          IF OLD.ended_at IS NOT NULL OR EXISTS (SELECT 1 FROM jobs_test.{table}_spans k WHERE k.job_id = OLD.job_id AND k.started_at > OLD.started_at) THEN RETURN NULL; END IF;
          RETURN NEW; END $$;
        CREATE TRIGGER latest BEFORE UPDATE ON jobs_test.{table}_spans FOR EACH ROW EXECUTE FUNCTION jobs_test.{table}_latest();
        """);
}
