using System.Net;
using System.Net.Sockets;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A loopback port that takes TCP connections and never completes PostgreSQL's login, as a port forward or proxy whose far
/// end is down does, or a service that is not PostgreSQL: it reads what the client sends, and either never answers or, with
/// <c>closeAfterFirstPacket</c>, closes the connection once the first packet (the SSL request or start-up message) came.
/// </summary>
internal sealed class SilentLoginServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _closeAfterFirstPacket;
    private readonly Task _accepting;

    public SilentLoginServer(bool closeAfterFirstPacket)
    {
        _closeAfterFirstPacket = closeAfterFirstPacket;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The port to connect to on 127.0.0.1.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        var clients = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                clients.Add(ServeAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(clients);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var owned = client;
        var buffer = new byte[1024];
        try
        {
            // Reads whatever comes and answers nothing; the connection ends when the client gives up, or at the first packet.
            while (await client.GetStream().ReadAsync(buffer, _stop.Token) > 0 && !_closeAfterFirstPacket)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
