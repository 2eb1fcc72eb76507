namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A port that takes the TCP connection but where no PostgreSQL completes the login (a port forward or proxy whose far end
/// is down, another service, a server too busy to start a session): PostgreSQL cannot be reached, exit 69, one line naming
/// the host and port and the connection's own Timeout, as for a port that refuses the connection. Not a statement that
/// outlasted the command timeout, nor a broken connection whose statement may have run (exit 75): no statement was sent.
/// </summary>
public sealed class LoginFailureTests
{
    [Theory]
    [InlineData("status")]
    [InlineData("retry", "--queue", "emails", "--state", "failed")]
    [InlineData("doctor")]
    public async Task A_login_the_server_never_answers_exits_69_naming_the_connection_timeout(params string[] args)
    {
        await using var server = new SilentLoginServer(closeAfterFirstPacket: false);
        var connection = $"Host=127.0.0.1;Port={server.Port};Username=ops;Database=app;Timeout=2";

        var result = await JobsTool.RunAsync(connection, [.. args, "--json"]);

        AssertUnreachable(result, args, server.Port, "Timeout");
        Assert.DoesNotContain("command timeout", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("retry", "--queue", "emails", "--state", "failed")]
    public async Task A_login_the_server_ends_by_closing_the_connection_exits_69(params string[] args)
    {
        await using var server = new SilentLoginServer(closeAfterFirstPacket: true);
        var connection = $"Host=127.0.0.1;Port={server.Port};Username=ops;Database=app;Timeout=5";

        var result = await JobsTool.RunAsync(connection, [.. args, "--json"]);

        AssertUnreachable(result, args, server.Port, "closed");
        Assert.DoesNotContain("may or may not have run", result.Error, StringComparison.Ordinal);
    }

    private static void AssertUnreachable(JobsTool.Result result, string[] args, int port, string mention)
    {
        Assert.True(result.ExitCode == 69,
            $"jobs {string.Join(' ', args)} at a port whose login never completes should exit 69 (PostgreSQL cannot be reached), not {result.ExitCode}:\n{result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        var lines = result.Error.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), "expected one error line:\n" + result);
        Assert.Contains($"127.0.0.1:{port}", result.Error);
        Assert.Contains(mention, result.Error);
    }
}
