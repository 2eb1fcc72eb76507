namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Passes as written. Queue names are compared exactly, as PostgreSQL's <c>text</c> equality does: case counts and so does
/// the Unicode form (<c>"é"</c> as one code point, U+00E9, is another queue than <c>e</c> followed by the combining accent
/// U+0301, although both print the same). The README says so; nothing folds or normalizes a name.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueNameFormTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Names_that_differ_in_case_or_Unicode_form_are_different_queues()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask));
        var tag = Guid.NewGuid().ToString("N")[..6];
        string[] names = [$"Emails-{tag}", $"emails-{tag}", $"caf\u00e9-{tag}", $"cafe\u0301-{tag}"];

        var ids = new List<JobId>();
        foreach (var name in names)
        {
            ids.Add(await q.Queue.PushAsync(new MessageJob(1, "x"), new JobOptions { Queue = name }));
        }

        for (var i = 0; i < names.Length; i++)
        {
            Assert.Equal(names[i], (await q.Queue.GetJobAsync(ids[i]))!.QueueName);
            Assert.Equal(1, (await q.Queue.GetCountsAsync(names[i])).Pending);
        }
    }
}
