using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A job's JSON reader stops at 64 levels of objects and arrays (System.Text.Json's default), but its writer went on to
/// 1,000: a recursive value the job's JsonSerializerContext writes (a tree of nodes in a dictionary) nested deeper than
/// 64 levels was pushed, and every worker then failed the job for good with a decode error.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ContextDepthPayloadTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_payload_nested_deeper_than_workers_read_is_refused_at_push()
    {
        var seen = new Recorder<TreeJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddTreeJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();
        var admin = q.Services.GetRequiredService<JobAdmin>();

        // The payload's object (1), the dictionary (2), then one level per node: 62 nodes end at level 64.
        await q.Queue.PushAsync(new TreeJob(new Dictionary<int, TreeNode> { [1] = TreeNode.Chain(62) }));
        await seen.WaitForCountAsync(1, 60);
        Assert.Equal(62, Assert.Single(seen.Items).Roots[1].Length);

        ArgumentException? refused = null;
        try
        {
            var id = await q.Queue.PushAsync(new TreeJob(new Dictionary<int, TreeNode> { [1] = TreeNode.Chain(63) }));
            JobDetails? job = null;
            await TestExtensions.EventuallyAsync(async () => (job = await admin.GetJobAsync(id)) is { State: JobState.Failed or JobState.Completed }, 60,
                () => $"job {id} is {job?.State}");
            Assert.Fail($"A payload nested 65 levels deep was pushed, and the worker's attempt ended {job!.State}: {job.LastError}; "
                + "it should be refused at push, as no worker reads more than 64 levels");
        }
        catch (ArgumentException e)
        {
            refused = e;
        }

        Assert.Contains("'test.tree'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("64 levels", refused.Message, StringComparison.Ordinal);
    }
}

/// <summary>A job carrying trees (a recursive type: written by the job's JsonSerializerContext).</summary>
/// <param name="Roots">The trees.</param>
[Job("test.tree", JsonContext = typeof(TreeJsonContext))]
public sealed partial record TreeJob(Dictionary<int, TreeNode> Roots);

/// <summary>A node of a chain.</summary>
public sealed class TreeNode
{
    /// <summary>The next node.</summary>
    public TreeNode? Next { get; set; }

    /// <summary>How many nodes from here to the end.</summary>
    [JsonIgnore]
    public int Length => 1 + (Next?.Length ?? 0);

    /// <summary>A chain of <paramref name="length"/> nodes.</summary>
    public static TreeNode Chain(int length)
    {
        var head = new TreeNode();
        for (var i = 1; i < length; i++)
        {
            head = new TreeNode { Next = head };
        }

        return head;
    }
}

/// <summary>The context of <see cref="TreeJob"/>.</summary>
[JsonSerializable(typeof(Dictionary<int, TreeNode>))]
internal sealed partial class TreeJsonContext : JsonSerializerContext;
