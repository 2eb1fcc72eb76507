namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Where the login's password comes from, at a server that asks for one. None given (the operator's JOBS_CONNECTION
/// without Password=, a shell without PGPASSWORD or ~/.pgpass): a refused login (77, as a wrong password is), one line
/// saying where a password goes, not Npgsql's words and exit 1 ("not everything asked was done"). A password file the
/// connection string names that cannot be read (<c>Passfile=~/.pgpass</c>: no shell expands that ~): a connection
/// string to fix (64), naming the file, not a crash (70, a stack trace).
/// </summary>
public sealed class PasswordTests
{
    [Theory]
    [InlineData("status")]
    [InlineData("retry", "--queue", "emails", "--state", "failed")]
    public async Task A_server_that_asks_for_a_password_none_was_given_for_exits_77_saying_where_to_give_it(params string[] args)
    {
        await using var server = new PasswordAskingServer();
        var connection = $"Host=127.0.0.1;Port={server.Port};Username=ops;Database=app;Timeout=5";

        var result = await JobsTool.RunAsync(connection, [.. args, "--json"]);

        Assert.True(result.ExitCode == 77, $"jobs {string.Join(' ', args)} given no password for a server that asks for one should exit 77 (login refused):\n{result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        var lines = result.Error.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), "expected one error line:\n" + result);
        Assert.Contains("'ops'", result.Error);
        Assert.Contains("Password=", result.Error);
        Assert.Contains("PGPASSWORD", result.Error);
    }

    [Fact]
    public async Task A_password_file_the_connection_string_names_that_cannot_be_read_exits_64_naming_it()
    {
        await using var server = new PasswordAskingServer();
        var passfile = "~/.pgpass-" + Guid.NewGuid().ToString("N")[..8];
        var connection = $"Host=127.0.0.1;Port={server.Port};Username=ops;Database=app;Timeout=5;Passfile={passfile}";

        var result = await JobsTool.RunAsync(connection, "status", "--json");

        Assert.True(result.ExitCode == 64, $"a Passfile that cannot be read should exit 64 (a connection string to fix), not {result.ExitCode}:\n{result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        var lines = result.Error.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), "expected one error line, no stack trace:\n" + result);
        Assert.Contains(passfile, result.Error);
        Assert.Contains("Passfile", result.Error);
    }
}
