namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A command line the tool cannot use, that holds a connection string with its password: the error echoes the words it
/// could not use (an option before the command name, shown reordered; a connection string given without --connection, as
/// a command or an argument), and stderr ends up in a CI job's log or a terminal's scrollback. The password never shows.
/// </summary>
public sealed class PasswordEchoTests
{
    private const string Password = "s3cr3t-Pa55";

    [Theory]
    [InlineData("--connection", "{c}", "status")]
    [InlineData("--connection", "{c}", "list", "--json")]
    [InlineData("status", "{c}")]
    [InlineData("migrate", "{c}")]
    [InlineData("{c}")]
    [InlineData("list", "--since", "{c}")]
    public async Task A_command_line_echoed_in_an_error_never_shows_the_connection_password(params string[] words)
    {
        // Nothing connects: a command line the tool cannot use exits 64 before it opens a connection.
        foreach (var connection in (string[])[$"Host=db.example;Database=app;Username=ops;Password={Password}",
                     $"Host=db.example;Database=app;Username=ops;password = '{Password};x'", $"Host=db.example;PWD={Password};Username=ops"])
        {
            var args = words.Select(w => w == "{c}" ? connection : w).ToArray();

            var result = await JobsTool.RunAsync(null, args);

            Assert.True(result.ExitCode == 64, $"jobs {string.Join(' ', args)} should exit 64 (a command line the tool cannot use):\n{result}");
            Assert.True(!result.Error.Contains(Password, StringComparison.Ordinal) && !result.Out.Contains(Password, StringComparison.Ordinal),
                $"jobs {string.Join(' ', args)} printed the connection string's password:\n{result}");
            Assert.Contains("error: ", result.Error);
        }
    }
}
