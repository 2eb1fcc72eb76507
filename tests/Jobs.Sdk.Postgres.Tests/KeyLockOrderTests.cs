using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The order in which a statement takes its concurrency keys' locks (<see cref="ConcurrencyKeySql.LockKeys"/>,
/// <see cref="ConcurrencyKeySql.LockPairs"/>): buckets first, in (queue, bucket) order, then keys. Every statement and every
/// version of the code must take them in this one order: processes of two versions run side by side during a rolling
/// deploy, and a batch push, an operator's retry or a cleanup rerun taking them in another order deadlocks with them (40P01).
/// The lock-order tests catch two statements of one build that disagree; these pin the order itself. The last bucket of the
/// order is held by another session: a statement taking the order must have taken every bucket before it, and no key,
/// when it stops to wait.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyLockOrderTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData("a keyed batch's keys", 10, 1)]
    [InlineData("a keyed batch's many keys (their buckets exclusive)", 4 * ConcurrencyKeySql.BucketedAbove, 1)]
    [InlineData("a retry's or a rerun's keys of two queues", 10, 2)]
    public async Task Key_locks_are_taken_buckets_first_in_queue_then_bucket_order(string what, int keys, int queues)
    {
        await using var db = fixture.CreateDataSource();
        var id = Guid.NewGuid().ToString("N")[..8];
        var names = Enumerable.Range(0, queues).Select(i => $"lockorder_{id}_{(char)('a' + i)}").ToArray();
        var keyNames = Enumerable.Range(0, keys).Select(k => $"key-{k:D3}").ToArray();
        var keyArray = "ARRAY[" + string.Join(", ", keyNames.Select(k => $"'{k}'")) + "]";
        var lastBucket = await db.ScalarAsync($"SELECT max((hashtextextended(k, 0) & 1023)::int) FROM unnest({keyArray}) k");
        var buckets = queues * await db.ScalarAsync($"SELECT count(DISTINCT (hashtextextended(k, 0) & 1023)::int) FROM unnest({keyArray}) k");

        await using var holder = await db.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('jobs.keys:' || $1), $2)", holder, held))
        {
            hold.Parameters.Add(new NpgsqlParameter<string> { TypedValue = names[^1] });
            hold.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)lastBucket });
            await hold.ExecuteNonQueryAsync();
        }

        await using var locker = await db.OpenConnectionAsync();
        await using var locking = await locker.BeginTransactionAsync();
        await using var statement = queues == 1
            ? new NpgsqlCommand(KeyAdmissionSql.Lock, locker, locking)
            {
                Parameters = { new NpgsqlParameter<string> { TypedValue = names[0] }, new NpgsqlParameter<string[]> { TypedValue = keyNames } },
            }
            : new NpgsqlCommand($"WITH {ConcurrencyKeySql.LockPairs("(SELECT * FROM unnest($1::text[], $2::text[]))")} SELECT count(*) FROM key_locks",
                locker, locking)
            {
                Parameters =
                {
                    new NpgsqlParameter<string[]> { TypedValue = [.. names.SelectMany(n => keyNames.Select(_ => n))] },
                    new NpgsqlParameter<string[]> { TypedValue = [.. names.SelectMany(_ => keyNames)] },
                },
            };
        var run = statement.ExecuteScalarAsync();
        await TestExtensions.EventuallyAsync(async () => run.IsCompleted || await db.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE {holder.ProcessID} = ANY(pg_blocking_pids(pid))") > 0, 60, $"{what}: waits for the last bucket");
        Assert.False(run.IsCompleted, $"{what}: the statement did not wait for the last bucket of its order, held by another session");

        var takenBuckets = await db.ScalarAsync(
            $"SELECT count(*) FROM pg_locks WHERE pid = {locker.ProcessID} AND locktype = 'advisory' AND objsubid = 2 AND granted");
        var takenKeys = await db.ScalarAsync(
            $"SELECT count(*) FROM pg_locks WHERE pid = {locker.ProcessID} AND locktype = 'advisory' AND objsubid = 1 AND granted");
        Assert.True(takenBuckets == buckets - 1 && takenKeys == 0,
            $"{what}: waiting for the last bucket of the order (queue, bucket), the statement held {takenBuckets} of the {buckets - 1} buckets " +
            $"before it and {takenKeys} key lock(s) (expected none): it takes its locks in another order than every other version and statement");

        await held.CommitAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));
        await locking.RollbackAsync();
    }
}
