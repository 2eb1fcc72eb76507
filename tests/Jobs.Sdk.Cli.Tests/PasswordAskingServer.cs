using System.Buffers.Binary;
using System.Net.Sockets;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A loopback server that speaks PostgreSQL's start-up as a server whose <c>pg_hba.conf</c> asks for a password: it
/// declines SSL and GSS encryption, then answers every start-up message with AuthenticationCleartextPassword, and a
/// password with error 28P01 (the test server trusts every login, so it cannot be asked to want one).
/// </summary>
internal sealed class PasswordAskingServer : LoopbackServer
{
    private const int SslRequest = 80877103;
    private const int GssEncRequest = 80877104;

    public PasswordAskingServer()
    {
        Start();
    }

    protected override async Task ServeAsync(TcpClient client)
    {
        var stream = client.GetStream();
        try
        {
            while (true)
            {
                // Start-up packets: length, then a code; later messages: a type byte first (a password: 'p').
                var first = new byte[1];
                await stream.ReadExactlyAsync(first, Stopping);
                if (first[0] == (byte)'p')
                {
                    await ReadAsync(stream, 4, lengthIncluded: true);
                    await stream.WriteAsync(Error("28P01", "password authentication failed"), Stopping);
                    return;
                }

                var rest = await ReadAsync(stream, 3, lengthIncluded: false);
                var length = BinaryPrimitives.ReadInt32BigEndian([first[0], .. rest]);
                var body = new byte[length - 4];
                await stream.ReadExactlyAsync(body, Stopping);
                var code = BinaryPrimitives.ReadInt32BigEndian(body);
                if (code is SslRequest or GssEncRequest)
                {
                    await stream.WriteAsync("N"u8.ToArray(), Stopping);
                    continue;
                }

                // AuthenticationCleartextPassword: 'R', length 8, code 3.
                await stream.WriteAsync(new byte[] { (byte)'R', 0, 0, 0, 8, 0, 0, 0, 3 }, Stopping);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or EndOfStreamException or SocketException)
        {
            // The client went away (it had no password to give): done.
        }
    }

    private async Task<byte[]> ReadAsync(NetworkStream stream, int count, bool lengthIncluded)
    {
        var bytes = new byte[count];
        await stream.ReadExactlyAsync(bytes, Stopping);
        if (lengthIncluded)
        {
            var skip = new byte[BinaryPrimitives.ReadInt32BigEndian(bytes) - 4];
            await stream.ReadExactlyAsync(skip, Stopping);
        }

        return bytes;
    }

    private static byte[] Error(string sqlState, string message)
    {
        var fields = new List<byte>();
        foreach (var (type, value) in new[] { ('S', "FATAL"), ('V', "FATAL"), ('C', sqlState), ('M', message) })
        {
            fields.Add((byte)type);
            fields.AddRange(System.Text.Encoding.UTF8.GetBytes(value));
            fields.Add(0);
        }

        fields.Add(0);
        var error = new byte[5 + fields.Count];
        error[0] = (byte)'E';
        BinaryPrimitives.WriteInt32BigEndian(error.AsSpan(1), 4 + fields.Count);
        fields.CopyTo(error, 5);
        return error;
    }
}
