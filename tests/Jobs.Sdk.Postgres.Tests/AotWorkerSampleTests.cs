using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The AotWorker sample, the console worker README tells users to copy, as a real process: it promises a graceful
/// shutdown on SIGTERM/SIGINT, and a pod stopped while the database is down (start-up still waiting for it, log event
/// 2003, as README documents) must exit 0 like any other stop, not abort with an unhandled exception.
/// </summary>
public sealed class AotWorkerSampleTests
{
    [Fact]
    public async Task Sigterm_while_start_up_waits_for_an_unreachable_database_exits_0()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SampleDll());
        info.Environment["ConnectionStrings__Jobs"] = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=postgres;Timeout=2";
        info.Environment["Logging__LogLevel__Npgsql"] = "Warning";
        using var process = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        var retrying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Collect(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is not { } line)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            if (line.Contains("[2003]", StringComparison.Ordinal))
            {
                retrying.TrySetResult();
            }
        }

        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await retrying.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        string text;
        lock (output)
        {
            text = output.ToString();
        }

        Assert.True(process.ExitCode == 0 && !text.Contains("Unhandled exception", StringComparison.Ordinal),
            $"exit code {process.ExitCode}; output:\n{text}");
    }

    internal static string SampleDll()
    {
        // tests/Jobs.Sdk.Postgres.Tests/bin/<Configuration>/net10.0/ -> samples/Jobs.Sdk.Samples.AotWorker/bin/<Configuration>/net10.0/
        var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var tfm = Path.GetFileName(here);
        var configuration = Path.GetFileName(Path.GetDirectoryName(here)!);
        var root = Path.GetFullPath(Path.Combine(here, "..", "..", "..", "..", ".."));
        var dll = Path.Combine(root, "samples", "Jobs.Sdk.Samples.AotWorker", "bin", configuration, tfm, "Jobs.Sdk.Samples.AotWorker.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The AotWorker sample was not found at {dll}. Build samples/Jobs.Sdk.Samples.AotWorker (the test project references it).");
    }
}
