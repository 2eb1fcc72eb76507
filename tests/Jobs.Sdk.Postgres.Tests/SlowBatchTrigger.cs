using System.Globalization;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Makes every statement that changes more than a given number of one queue's jobs run past a short
/// <c>statement_timeout</c>, on any machine: a row trigger on <c>jobs_test.jobs</c> counts the queue's rows its transaction
/// changed (a bulk action's batch is one statement, its own transaction) and, at the first row past the limit, sleeps
/// once for longer than the timeout. A statement that changes no more rows than the limit sleeps nothing, so it passes
/// whatever the machine's load. Each sleep begun is counted in a sequence (not transactional: a cancelled batch's count
/// stays), so a test can tell how many statements went over the limit.
/// </summary>
internal static class SlowBatchTrigger
{
    /// <summary>
    /// Installs the trigger for <paramref name="queue"/> on the database of <paramref name="untimed"/> (once per schema):
    /// the statement that changes row <paramref name="rows"/> + 1 sleeps <paramref name="sleep"/>.
    /// </summary>
    public static async Task InstallAsync(NpgsqlDataSource untimed, string queue, int rows, TimeSpan sleep, string schema = "jobs_test")
    {
        await using var command = untimed.CreateCommand($$"""
            CREATE SEQUENCE "{{schema}}".slow_batches;
            CREATE FUNCTION "{{schema}}".slow_batch() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE n int := coalesce(nullif(current_setting('jobs_test.batch_rows', true), ''), '0')::int + 1;
            BEGIN
              PERFORM set_config('jobs_test.batch_rows', n::text, true);
              IF n = {{rows + 1}} THEN
                PERFORM nextval('"{{schema}}".slow_batches');
                PERFORM pg_sleep({{sleep.TotalSeconds.ToString(CultureInfo.InvariantCulture)}});
              END IF;
              RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END $$;
            CREATE TRIGGER slow_batch BEFORE UPDATE OR DELETE ON "{{schema}}".jobs
              FOR EACH ROW WHEN (OLD.queue_name = '{{queue}}') EXECUTE FUNCTION "{{schema}}".slow_batch();
            """);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>How many statements went over the limit (began the sleep) so far.</summary>
    public static async Task<long> SleptAsync(NpgsqlDataSource untimed, string schema = "jobs_test")
    {
        await using var command = untimed.CreateCommand($"""SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "{schema}".slow_batches""");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
