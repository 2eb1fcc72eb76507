using System.Net;
using System.Text.Json;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>One browser's <c>api/events</c> stream, parsed into events.</summary>
internal sealed class LiveEventStream : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private LiveEventStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<LiveEventStream> OpenAsync(DashboardTestApp app, Caller caller)
    {
        var request = app.Request(HttpMethod.Get, "api/events", caller);
        var response = await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        return new LiveEventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>Waits (at most 20 s) for <paramref name="condition"/>, checking it between yields.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Deadline);
        while (!condition())
        {
            await Task.Yield();
            await Task.Delay(10, cts.Token);
        }
    }

    public async Task<JsonElement> NextAsync(string eventName)
    {
        using var cts = new CancellationTokenSource(Deadline);
        string? name = null;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("The event stream ended.");
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name == eventName)
            {
                return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
