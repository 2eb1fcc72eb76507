using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Input PostgreSQL cannot store is refused at push, before any statement runs, with an error that says what to change.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PushValidationTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_payload_string_with_a_NUL_character_is_refused_at_push_and_nothing_of_the_batch_is_stored()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask));

        // jsonb cannot hold U+0000: PostgreSQL used to answer 22P05 "unsupported Unicode escape sequence".
        var one = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushAsync(new MessageJob(1, "a\0b")));
        Assert.Contains("test.message", one.Message, StringComparison.Ordinal);
        Assert.Contains("U+0000", one.Message, StringComparison.Ordinal);
        var many = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushManyAsync([new MessageJob(1, "fine"), new MessageJob(2, "a\0b")]));
        Assert.Contains("U+0000", many.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await CountAsync(q));

        // The six characters \u0000 as text are not a NUL: they are stored and read back as written.
        await q.Queue.PushAsync(new MessageJob(3, @"C:\u0000\x"));
        Assert.Equal(1L, await CountAsync(q));
    }

    [Fact]
    public async Task A_concurrency_key_with_a_NUL_character_is_refused_at_push()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask));

        // PostgreSQL used to answer 22021 "invalid byte sequence for encoding "UTF8": 0x00".
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushAsync(new MessageJob(1, "x"), new JobOptions { ConcurrencyKey = "tenant\0" }));
        Assert.Equal("options.ConcurrencyKey", ex.ParamName);
        Assert.Equal(0L, await CountAsync(q));
    }

    [Fact]
    public async Task A_queue_name_or_concurrency_key_too_long_to_index_is_refused_at_push_and_the_longest_allowed_are_stored()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask));

        // Random text does not compress: PostgreSQL used to answer 54000 "index row requires 10048 bytes, maximum size is 8191".
        var key = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushAsync(new MessageJob(1, "x"), new JobOptions { ConcurrencyKey = Random(3_000) }));
        Assert.Equal("options.ConcurrencyKey", key.ParamName);
        Assert.Contains("1000 bytes", key.Message, StringComparison.Ordinal);
        var queue = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushAsync(new MessageJob(1, "x"), new JobOptions { Queue = Random(3_000) }));
        Assert.Contains("1000 bytes", queue.Message, StringComparison.Ordinal);

        // The longest of both, together, fit the indexes.
        var longest = Random(1_000);
        var id = await q.Queue.PushAsync(new MessageJob(2, "x"), new JobOptions { Queue = longest, ConcurrencyKey = Random(1_000) });
        Assert.Equal(longest, (await q.Queue.GetJobAsync(id))!.QueueName);
    }

    [Theory]
    [InlineData("queue")]
    [InlineData("concurrency key")]
    [InlineData("unique key")]
    public async Task A_text_with_an_unpaired_surrogate_is_refused_at_push_with_an_ArgumentException_naming_the_option(string where)
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask));

        // Text cut in the middle of an emoji. Npgsql used to throw EncoderFallbackException for a queue or concurrency key;
        // a unique key, stored as a hash of its UTF-8, became "k\uFFFD": a second push under "k\uDBFF" (another key) was
        // reported as a duplicate and not inserted.
        foreach (var cut in new[] { "k\uD800", "k\uDBFF", "\uDE00k" })
        {
            var options = where switch
            {
                "queue" => new JobOptions { Queue = cut },
                "concurrency key" => new JobOptions { ConcurrencyKey = cut },
                _ => new JobOptions { UniqueKey = cut },
            };
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.TryPushAsync(new MessageJob(1, "x"), options));
            Assert.Contains("unpaired surrogate", ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0L, await CountAsync(q));
        Assert.True((await q.Queue.TryPushAsync(new MessageJob(1, "x"), new JobOptions { UniqueKey = "k\uD83D\uDE00", ConcurrencyKey = "🚀" })).Inserted);
    }

    private static string Random(int length) => string.Concat(Enumerable.Range(0, length / 32 + 1).Select(_ => Guid.NewGuid().ToString("N")))[..length];

    private static Task<long> CountAsync(TestQueue q)
        => q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'");
}
