using System.Net;
using System.Net.Sockets;

namespace Jobs.Sdk.Testing;

/// <summary>
/// A loopback TCP proxy for fault tests: it forwards bytes between clients and one upstream endpoint, and on request
/// stalls every connection (bytes are held, not dropped, as with a network partition that drops packets) or cuts them.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Connection> _connections = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _flowing = NewOpenGate();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _roundTrips;
    private int _dropNext;

    private TcpProxy(IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The port clients connect to (on 127.0.0.1).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int ConnectionsAccepted => Volatile.Read(ref _accepted);

    /// <summary>
    /// Round trips so far, for a PostgreSQL server behind the proxy: the server's ReadyForQuery messages (one ends every
    /// exchange the client waits for) after the one that ends each connection's start-up. Needs a connection string
    /// with <c>SSL Mode=Disable</c> (the stream is read as plain protocol messages).
    /// </summary>
    public int RoundTrips => Volatile.Read(ref _roundTrips);

    /// <summary>Whether traffic is stalled now.</summary>
    public bool IsStalled { get { lock (_gate) { return !_flowing.Task.IsCompleted; } } }

    /// <summary>Starts a proxy in front of <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static TcpProxy Start(string host, int port)
    {
        var address = host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
        return new TcpProxy(new IPEndPoint(address, port));
    }

    /// <summary>Holds every byte in both directions (existing and new connections) until <see cref="Resume"/>.</summary>
    public void Stall()
    {
        lock (_gate)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>
    /// Holds the server's bytes to the connections open now (a reply lost on its way back), until <see cref="Resume"/>:
    /// their requests still reach the server, and new connections flow both ways.
    /// </summary>
    public void HoldReplies()
    {
        lock (_gate)
        {
            foreach (var connection in _connections)
            {
                connection.HoldReplies();
            }
        }
    }

    /// <summary>Closes the next connection accepted at once, before it reaches the server (a lost request, such as a cancel request).</summary>
    public void DropNextConnection() => Volatile.Write(ref _dropNext, 1);

    /// <summary>Lets held and new bytes flow again.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _flowing.TrySetResult();
            foreach (var connection in _connections)
            {
                connection.ReleaseReplies();
            }
        }
    }

    /// <summary>Closes every open connection (resets both sides); new connections are still accepted.</summary>
    public void CutAll()
    {
        Connection[] open;
        lock (_gate)
        {
            open = [.. _connections];
            _connections.Clear();
        }

        foreach (var connection in open)
        {
            connection.Abort();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Resume();
        CutAll();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private static TaskCompletionSource NewOpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private Task WaitFlowingAsync()
    {
        lock (_gate)
        {
            return _flowing.Task;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            if (Interlocked.Exchange(ref _dropNext, 0) == 1)
            {
                new Connection(client, client).Abort();
                continue;
            }

            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(Socket client)
    {
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await WaitFlowingAsync().WaitAsync(_stop.Token);
            await upstream.ConnectAsync(_upstream, _stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            client.Dispose();
            upstream.Dispose();
            return;
        }

        var connection = new Connection(client, upstream);
        lock (_gate)
        {
            _connections.Add(connection);
        }

        await Task.WhenAny(PumpAsync(client, upstream, null, null), PumpAsync(upstream, client, new ServerMessages(this), connection));
        connection.Abort();
        lock (_gate)
        {
            _connections.Remove(connection);
        }
    }

    /// <param name="replies">The connection whose replies these bytes are (they wait while it holds them), or null (requests).</param>
    private async Task PumpAsync(Socket from, Socket to, ServerMessages? messages, Connection? replies)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                messages?.Read(buffer.AsSpan(0, read));

                // A stall holds the bytes read so far: nothing reaches the other side until Resume.
                await WaitFlowingAsync().WaitAsync(_stop.Token);
                if (replies is not null)
                {
                    await replies.RepliesFlowing.WaitAsync(_stop.Token);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Reads the server's side of one connection as protocol messages (type byte, big-endian length) and counts ReadyForQuery.</summary>
    private sealed class ServerMessages(TcpProxy proxy)
    {
        private readonly byte[] _header = new byte[5];
        private int _headerRead;
        private long _bodyLeft;
        private bool _startedUp;

        public void Read(ReadOnlySpan<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                if (_bodyLeft > 0)
                {
                    var skip = (int)Math.Min(_bodyLeft, bytes.Length);
                    bytes = bytes[skip..];
                    _bodyLeft -= skip;
                    continue;
                }

                _header[_headerRead++] = bytes[0];
                bytes = bytes[1..];
                if (_headerRead < 5)
                {
                    continue;
                }

                _headerRead = 0;
                _bodyLeft = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(1)) - 4;
                if (_header[0] == (byte)'Z')
                {
                    if (_startedUp)
                    {
                        Interlocked.Increment(ref proxy._roundTrips);
                    }

                    _startedUp = true;
                }
            }
        }
    }

    private sealed class Connection(Socket client, Socket upstream)
    {
        private readonly Lock _gate = new();
        private TaskCompletionSource _replies = NewOpenGate();

        public Task RepliesFlowing { get { lock (_gate) { return _replies.Task; } } }

        public void HoldReplies()
        {
            lock (_gate)
            {
                if (_replies.Task.IsCompleted)
                {
                    _replies = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }

        public void ReleaseReplies()
        {
            lock (_gate)
            {
                _replies.TrySetResult();
            }
        }

        public void Abort()
        {
            foreach (var socket in new[] { client, upstream })
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }
}
