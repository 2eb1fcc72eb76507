using System.Net.Sockets;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A loopback port that takes TCP connections and never completes PostgreSQL's login, as a port forward or proxy whose far
/// end is down does, or a service that is not PostgreSQL: it reads what the client sends, and either never answers or, with
/// <c>closeAfterFirstPacket</c>, closes the connection once the first packet (the SSL request or start-up message) came.
/// </summary>
internal sealed class SilentLoginServer : LoopbackServer
{
    private readonly bool _closeAfterFirstPacket;

    public SilentLoginServer(bool closeAfterFirstPacket)
    {
        _closeAfterFirstPacket = closeAfterFirstPacket;
        Start();
    }

    protected override async Task ServeAsync(TcpClient client)
    {
        var buffer = new byte[1024];
        try
        {
            // Reads whatever comes and answers nothing; the connection ends when the client gives up, or at the first packet.
            while (await client.GetStream().ReadAsync(buffer, Stopping) > 0 && !_closeAfterFirstPacket)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
        }
    }
}
