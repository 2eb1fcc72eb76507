using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The AotWorker sample given a <c>--push</c> it cannot use (a typo, a script's variable that expanded to a word or to
/// nothing), as a real process: it says what it expected and what it got, and exits 64 (a command line it cannot use),
/// instead of aborting with an unhandled ArgumentException and its stack trace (exit 134).
/// </summary>
public sealed class AotWorkerSamplePushArgumentTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("99999999999")]
    [InlineData(null)]
    public async Task A_push_count_that_is_not_a_number_exits_64_saying_what_was_expected(string? count)
    {
        // The database is unreachable: a sample that took the argument would wait for it (and not exit) instead.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(AotWorkerSampleTests.SampleDll());
        info.ArgumentList.Add("--push");
        if (count is not null)
        {
            info.ArgumentList.Add(count);
        }

        info.Environment["ConnectionStrings__Jobs"] = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=postgres;Timeout=2";
        info.Environment["Logging__LogLevel__Npgsql"] = "Warning";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var exited = await Record.ExceptionAsync(() => process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.True(exited is null, $"The AotWorker sample given '--push {count}' did not exit within 60 s: it took the argument and waited for the database.");
            var error = await stderr;
            var text = $"exit code {process.ExitCode}; stdout:\n{await stdout}\nstderr:\n{error}";

            Assert.True(process.ExitCode == 64, $"'--push {count}' should exit 64 (a command line the sample cannot use): {text}");
            Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
            Assert.Contains("--push takes the number of jobs to push", error, StringComparison.Ordinal);
            Assert.Contains(count is null ? "got nothing after it" : $"got '{count}'", error, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }
}
