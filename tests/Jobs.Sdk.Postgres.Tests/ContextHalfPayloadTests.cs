using System.Text.Json.Serialization;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="Half.NaN"/> (or an infinity) in a member the job's JsonSerializerContext writes: System.Text.Json writes a
/// Half through a raw value, a bare <c>NaN</c> that is no JSON, and the push failed with its reader's
/// "'N' is an invalid start of a value", naming neither the job nor the member. It is refused at push with an
/// <see cref="ArgumentException"/> naming both and what to do, as other values no worker could read are.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ContextHalfPayloadTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_half_NaN_in_a_member_the_JsonContext_writes_is_refused_at_push_naming_the_job_and_the_member()
    {
        var seen = new Recorder<ContextHalfJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddContextHalfJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();

        var thrown = await Record.ExceptionAsync(() => q.Queue.PushAsync(new ContextHalfJob(7, new Dictionary<int, Half> { [1] = (Half)0.5f, [2] = Half.NaN })));

        Assert.True(thrown is ArgumentException && thrown.Message.Contains("'test.context-half'", StringComparison.Ordinal)
            && thrown.Message.Contains("'ratios'", StringComparison.Ordinal) && thrown.Message.Contains("AllowNamedFloatingPointLiterals", StringComparison.Ordinal),
            $"A Half.NaN in a member the job's JsonSerializerContext writes threw at push {thrown?.GetType().Name ?? "nothing"}: {thrown?.Message}; "
            + "it should be refused with an ArgumentException naming the job ('test.context-half'), the member ('ratios') and what to do");
    }

    [Fact]
    public async Task Finite_halves_in_a_member_the_JsonContext_writes_reach_the_handler_unchanged()
    {
        var seen = new Recorder<ContextHalfJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddContextHalfJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();

        await q.Queue.PushAsync(new ContextHalfJob(7, new Dictionary<int, Half> { [1] = (Half)0.5f, [2] = Half.MaxValue }));
        await seen.WaitForCountAsync(1, 60);

        var read = Assert.Single(seen.Items);
        Assert.Equal(((Half)0.5f, Half.MaxValue), (read.Ratios[1], read.Ratios[2]));
    }

    [Fact]
    public async Task A_half_NaN_reaches_the_handler_when_the_JsonContext_allows_named_floating_point_literals_as_the_refusal_says()
    {
        var seen = new Recorder<NamedHalfJob>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddNamedHalfJob((job, _, _) =>
        {
            seen.Add(job);
            return Task.CompletedTask;
        }));
        await q.StartAsync();

        await q.Queue.PushAsync(new NamedHalfJob(new Dictionary<int, Half> { [1] = Half.NaN, [2] = Half.NegativeInfinity }));
        await seen.WaitForCountAsync(1, 60);

        var read = Assert.Single(seen.Items);
        Assert.True(Half.IsNaN(read.Ratios[1]) && Half.IsNegativeInfinity(read.Ratios[2]), $"Read back: {read.Ratios[1]}, {read.Ratios[2]}");
    }
}

/// <summary>A job with halves in a dictionary, which the job's JsonSerializerContext writes.</summary>
/// <param name="Id">A member the generated serializer writes.</param>
/// <param name="Ratios">Halves by number (written by System.Text.Json).</param>
[Job("test.context-half", JsonContext = typeof(ContextHalfJsonContext))]
public sealed partial record ContextHalfJob(int Id, Dictionary<int, Half> Ratios);

/// <summary>The context of <see cref="ContextHalfJob"/>.</summary>
[JsonSerializable(typeof(Dictionary<int, Half>))]
internal sealed partial class ContextHalfJsonContext : JsonSerializerContext;

/// <summary>A job with halves its JsonSerializerContext writes as strings when not finite.</summary>
/// <param name="Ratios">Halves by number (written by System.Text.Json).</param>
[Job("test.named-half", JsonContext = typeof(NamedHalfJsonContext))]
public sealed partial record NamedHalfJob(Dictionary<int, Half> Ratios);

/// <summary>The context of <see cref="NamedHalfJob"/>: NaN and infinities as strings.</summary>
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(Dictionary<int, Half>))]
internal sealed partial class NamedHalfJsonContext : JsonSerializerContext;
