using System.Diagnostics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A Jobs.Sdk.Postgres.TestWorker process (see its Program.cs): prints READY once running, stops on "stop".</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();
    private bool _disposed;

    private WorkerProcess(Process process) => _process = process;

    public static async Task<WorkerProcess> StartAsync(string connectionString, string queue, string table, int concurrency, double leaseSeconds, int workMs, int prefetch = 0,
        int globalConcurrency = 0, double ratePerSecond = 0, string? secondQueue = null, bool keyed = false, TimeSpan? hostShutdownTimeout = null,
        string? recordConnectionString = null, bool ticks = false, int uniquePushKeys = 0, TimeSpan? pollInterval = null, bool driverOwnsDataSource = false)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (recordConnectionString is not null)
        {
            info.Environment["JOBS_TEST_RECORD_CONNECTION"] = recordConnectionString;
        }

        if (ticks)
        {
            info.Environment["JOBS_TEST_SCHEDULE"] = "ticks"; // a scheduler of sixty entries, a TickJob every second (Program.cs)
        }

        if (pollInterval is { } poll)
        {
            info.Environment["JOBS_TEST_POLL_MS"] = ((int)poll.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (driverOwnsDataSource)
        {
            info.Environment["JOBS_TEST_DRIVER"] = "connection-string"; // UsePostgres(connectionString) (Program.cs)
        }

        if (uniquePushKeys > 0)
        {
            info.Environment["JOBS_TEST_UNIQUE_PUSH"] = uniquePushKeys.ToString(System.Globalization.CultureInfo.InvariantCulture); // pushes UniqueRecordJob (Program.cs)
        }

        info.ArgumentList.Add(WorkerDll());
        info.ArgumentList.Add(connectionString);
        info.ArgumentList.Add("jobs_test");
        info.ArgumentList.Add(queue);
        info.ArgumentList.Add(table);
        info.ArgumentList.Add(concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(workMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(prefetch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(globalConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(ratePerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(secondQueue ?? "");
        info.ArgumentList.Add(keyed ? "keyed" : "plain");
        if (hostShutdownTimeout is { } shutdown)
        {
            info.ArgumentList.Add("host:" + ((int)shutdown.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start the test worker process.");
        var worker = new WorkerProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (worker._stderr)
                {
                    worker._stderr.AppendLine(line);
                }
            }
        };
        process.BeginErrorReadLine();
        var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (ready != "READY")
        {
            worker.Dispose();
            throw new InvalidOperationException($"The test worker did not start: '{ready}'.");
        }

        return worker;
    }

    public async Task<int> StopAsync()
    {
        await _process.StandardInput.WriteLineAsync("stop");
        await _process.StandardInput.FlushAsync();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The test worker (pid {_process.Id}) did not exit within 60 s of 'stop'; its stderr: {StandardError}");
        }

        return _process.ExitCode;
    }

    /// <summary>The process id (part of the worker id: <c>machine:pid:suffix</c>).</summary>
    public int Id => _process.Id;

    /// <summary>SIGTERM (what Kubernetes, systemd and docker stop send): a worker run in a host stops gracefully.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>What the process wrote to stderr so far (an unhandled exception, for one).</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The exit code once the process has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL: the worker gets no chance to release or report anything.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Waits (up to a minute) until the process has exited.</summary>
    public Task WaitForExitAsync() => _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>Kills the process if it still runs; a second call does nothing (a test's finally may dispose a worker its body already disposed, and must not hide the body's failure).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static string WorkerDll()
    {
        // tests/Jobs.Sdk.Postgres.Tests/bin/<Configuration>/net10.0/ -> tests/Jobs.Sdk.Postgres.TestWorker/bin/<Configuration>/net10.0/
        var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var candidate = here.Replace("Jobs.Sdk.Postgres.Tests", "Jobs.Sdk.Postgres.TestWorker", StringComparison.Ordinal);
        var dll = Path.Combine(candidate, "Jobs.Sdk.Postgres.TestWorker.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"Test worker not found at {dll}. Build tests/Jobs.Sdk.Postgres.TestWorker (the test project references it).");
    }
}
