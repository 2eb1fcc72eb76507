using System.Text;
using Jobs.Sdk.Dashboard.Access;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Dashboard.Live;

/// <summary>
/// <c>GET api/events</c>: a <c>text/event-stream</c> of the hub's snapshots (event <c>snapshot</c>, or <c>store-error</c>),
/// with a comment line as keep-alive. Ends when the browser leaves or the app stops.
/// </summary>
internal static class ServerSentEventsEndpoint
{
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    public static async Task HandleAsync(HttpContext context)
    {
        var hub = context.RequestServices.GetRequiredService<DashboardLiveHub>();
        var stopping = context.RequestServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        if (stopping.IsCancellationRequested)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var cancellationToken = linked.Token;

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.Body.WriteAsync("retry: 3000\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);

        using var subscription = hub.Subscribe();
        try
        {
            while (true)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(TimeSpan.FromSeconds(15));
                LiveMessage message;
                try
                {
                    message = await subscription.Reader.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await response.Body.WriteAsync(KeepAlive, cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    continue;
                }

                await response.Body.WriteAsync(Format(message), cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
        }
    }

    internal static byte[] Format(LiveMessage message)
        => Encoding.UTF8.GetBytes($"id: {message.Sequence}\nevent: {message.Event}\ndata: {message.Json}\n\n");

    /// <summary>The endpoint, wrapped in the dashboard's read rules.</summary>
    public static RequestDelegate Endpoint { get; } = DashboardAccess.Read(HandleAsync);
}
