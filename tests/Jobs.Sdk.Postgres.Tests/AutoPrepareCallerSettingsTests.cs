using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// On a data source with Npgsql's automatic preparation (<c>Max Auto Prepare</c>), the pushes whose plans must be made for
/// their execution (keyed pushes, keyed batches, unique pushes) run with <c>plan_cache_mode = force_custom_plan</c>. In a
/// caller's transaction that setting lasts for the push only: the transaction goes on with the settings it had, whatever
/// the caller had set in it, and its session keeps them after the commit.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AutoPrepareCallerSettingsTests(PostgresFixture fixture)
{
    // Every setting's value (PL/pgSQL's own appear when a statement first loads the library into the session).
    private const string Settings = "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name NOT LIKE 'plpgsql.%'";

    [Theory]
    [InlineData(null)]
    [InlineData("force_generic_plan")] // the caller's own SET LOCAL before the pushes
    public async Task Pushes_in_a_callers_transaction_leave_its_settings_as_they_were(string? callersPlanCacheMode)
    {
        await using var ds = fixture.CreateDataSource(b => (b.MaxPoolSize, b.MaxAutoPrepare, b.AutoPrepareMinUsages) = (4, 64, 2));
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask)
            .AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask), dataSource: ds);

        await using var connection = await ds.OpenConnectionAsync();
        var session = await ReadAsync(connection, null, Settings);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            if (callersPlanCacheMode is not null)
            {
                await ReadAsync(connection, transaction, $"SELECT set_config('plan_cache_mode', '{callersPlanCacheMode}', true)");
            }

            var expected = await ReadAsync(connection, transaction, Settings);
            // Enough of each push for Npgsql to prepare its statements on this connection (from the second run).
            for (var i = 0; i < 6; i++)
            {
                await q.Queue.PushAsync(new KeyedRecordJob(i * 1_000), transaction);
                Assert.Equal(expected, await ReadAsync(connection, transaction, Settings));
                await q.Queue.PushManyAsync([new KeyedRecordJob(i * 1_000 + 1), new KeyedRecordJob(i * 1_000 + 2)], transaction);
                Assert.Equal(expected, await ReadAsync(connection, transaction, Settings));
                Assert.True((await q.Queue.TryPushAsync(new UniqueValueJob(i), transaction)).Inserted);
                Assert.Equal(expected, await ReadAsync(connection, transaction, Settings));
                Assert.Equal(2, (await q.Queue.TryPushManyAsync([new UniqueValueJob(100 + 2 * i), new UniqueValueJob(101 + 2 * i)], transaction)).Count(r => r.Inserted));
                Assert.Equal(expected, await ReadAsync(connection, transaction, Settings));
            }

            Assert.Equal(callersPlanCacheMode ?? "auto", await ReadAsync(connection, transaction, "SELECT current_setting('plan_cache_mode')"));
            // Npgsql prepared the pushes on this connection, and each ran a plan of its own, also under the caller's force_generic_plan.
            Assert.Equal("0 generic plans, custom plans run: true", await ReadAsync(connection, transaction,
                "SELECT coalesce(sum(generic_plans), 0) || ' generic plans, custom plans run: ' || (coalesce(sum(custom_plans), 0) > 0) " +
                "FROM pg_prepared_statements WHERE statement LIKE '%placed AS MATERIALIZED%' OR statement LIKE '%ahead AS MATERIALIZED%' " +
                "OR statement LIKE '%expired AS MATERIALIZED%'"));
            await transaction.CommitAsync();
        }

        Assert.Equal(session, await ReadAsync(connection, null, Settings));
        Assert.Equal(6 * 3 + 6 * 3, await ReadAsync(connection, null,
            $"SELECT count(*)::text FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'") is { } n ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : -1);
    }

    private static async Task<string> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
