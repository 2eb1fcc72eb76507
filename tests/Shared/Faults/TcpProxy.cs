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
    private IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Connection> _connections = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _flowing = NewOpenGate();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _refused;
    private int _roundTrips;
    private int _dropNext;
    private bool _refuse;
    private byte[]? _holdAfter;
    private byte[]? _dropOn;

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

    /// <summary>Connections closed before they reached the server (<see cref="RefuseConnections"/>, <see cref="DropNextConnection"/>).</summary>
    public int ConnectionsRefused => Volatile.Read(ref _refused);

    /// <summary>
    /// Round trips so far, for a PostgreSQL server behind the proxy: the server's ReadyForQuery messages (one ends every
    /// exchange the client waits for) after the one that ends each connection's start-up. Needs a connection string
    /// with <c>SSL Mode=Disable</c> (the stream is read as plain protocol messages).
    /// </summary>
    public int RoundTrips => Volatile.Read(ref _roundTrips);

    /// <summary>Whether the server's bytes to some open connection are held now (<see cref="HoldReplies"/>, <see cref="HoldRepliesAfter(string)"/>).</summary>
    public bool HoldsReplies { get { lock (_gate) { return _connections.Any(c => c.RepliesHeld); } } }

    /// <summary>Whether traffic is stalled now.</summary>
    public bool IsStalled { get { lock (_gate) { return !_flowing.Task.IsCompleted; } } }

    /// <summary>Starts a proxy in front of <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static TcpProxy Start(string host, int port) => new(Endpoint(host, port));

    /// <summary>
    /// Sends new connections to <paramref name="host"/>:<paramref name="port"/>; open ones stay where they are (as a DNS
    /// name or a virtual IP that moves to a new server in a failover).
    /// </summary>
    public void Retarget(string host, int port) => Volatile.Write(ref _upstream, Endpoint(host, port));

    private static IPEndPoint Endpoint(string host, int port)
        => new(host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(host), port);

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

    /// <summary>
    /// Closes every connection accepted from now on at once, before it reaches the server (the server out of reach for
    /// new connections), until <see cref="AcceptConnections"/>; open connections carry on.
    /// </summary>
    public void RefuseConnections() => Volatile.Write(ref _refuse, true);

    /// <summary>Ends <see cref="RefuseConnections"/>.</summary>
    public void AcceptConnections() => Volatile.Write(ref _refuse, false);

    /// <summary>
    /// Once, for the first connection whose client sends bytes containing <paramref name="request"/> (UTF-8, within one
    /// read: a statement's text, or a parameter's), holds the server's bytes to that connection from then on, as
    /// <see cref="HoldReplies"/> does: the request reaches the server, its reply does not (see <see cref="CutHeld"/>).
    /// </summary>
    public void HoldRepliesAfter(string request) => HoldRepliesAfter(System.Text.Encoding.UTF8.GetBytes(request));

    /// <summary><see cref="HoldRepliesAfter(string)"/> for raw bytes (a binary parameter's value).</summary>
    public void HoldRepliesAfter(byte[] request) => Volatile.Write(ref _holdAfter, request);

    /// <summary>
    /// Once, closes the first connection whose client sends bytes containing <paramref name="request"/> (UTF-8, within
    /// one read), both sides, before those bytes reach the server (a request lost with its connection).
    /// </summary>
    public void DropRequest(string request) => Volatile.Write(ref _dropOn, System.Text.Encoding.UTF8.GetBytes(request));

    /// <summary>Closes the connections whose replies are held (resets both sides): the held replies are lost.</summary>
    public void CutHeld()
    {
        Connection[] held;
        lock (_gate)
        {
            held = [.. _connections.Where(c => c.RepliesHeld)];
            _connections.RemoveAll(c => c.RepliesHeld);
        }

        foreach (var connection in held)
        {
            connection.Abort();
        }
    }

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
            if (Interlocked.Exchange(ref _dropNext, 0) == 1 || Volatile.Read(ref _refuse))
            {
                new Connection(client, client).Abort();
                Interlocked.Increment(ref _refused);
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
            await upstream.ConnectAsync(Volatile.Read(ref _upstream), _stop.Token);
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

        await Task.WhenAny(PumpAsync(client, upstream, null, null, connection), PumpAsync(upstream, client, new ServerMessages(this), connection, null));
        connection.Abort();
        lock (_gate)
        {
            _connections.Remove(connection);
        }
    }

    /// <param name="replies">The connection whose replies these bytes are (they wait while it holds them), or null (requests).</param>
    /// <param name="requests">The connection whose requests these bytes are (watched for <see cref="HoldRepliesAfter"/> and <see cref="DropRequest"/>), or null (replies).</param>
    private async Task PumpAsync(Socket from, Socket to, ServerMessages? messages, Connection? replies, Connection? requests)
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
                if (requests is not null)
                {
                    if (Taken(ref _dropOn, buffer.AsSpan(0, read)))
                    {
                        requests.Abort();
                        return;
                    }

                    if (Taken(ref _holdAfter, buffer.AsSpan(0, read)))
                    {
                        requests.HoldReplies();
                    }
                }

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

    /// <summary>Whether <paramref name="bytes"/> contain the armed request <paramref name="armed"/>, which is then disarmed (once).</summary>
    private static bool Taken(ref byte[]? armed, ReadOnlySpan<byte> bytes)
    {
        var request = Volatile.Read(ref armed);
        return request is not null && bytes.IndexOf(request) >= 0 && Interlocked.CompareExchange(ref armed, null, request) == request;
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

        public bool RepliesHeld { get { lock (_gate) { return !_replies.Task.IsCompleted; } } }

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
