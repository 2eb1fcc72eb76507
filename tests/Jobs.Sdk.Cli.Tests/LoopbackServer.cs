using System.Net;
using System.Net.Sockets;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A TCP server on a loopback port for tests that stand in for a PostgreSQL server: it accepts every connection and
/// serves each with <see cref="ServeAsync"/> until it is disposed (which cancels <see cref="Stopping"/> and waits for them).
/// </summary>
internal abstract class LoopbackServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _accepting;

    /// <summary>The port to connect to on 127.0.0.1.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Cancelled when the server is disposed.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Starts listening; a subclass calls it last in its constructor.</summary>
    protected void Start()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Serves one accepted connection (the base disposes it afterwards).</summary>
    protected abstract Task ServeAsync(TcpClient client);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accepting is { } accepting)
        {
            await accepting;
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var clients = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                clients.Add(ServeOwnedAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(clients);
    }

    private async Task ServeOwnedAsync(TcpClient client)
    {
        using var owned = client;
        await ServeAsync(client);
    }
}
